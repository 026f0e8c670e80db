export { crc32 } from './crc32.js';
export { bundledDataDir, findRepoRoot, locateData, resolveDataDir } from './data-dir.js';
export type { Dataset, DatasetLayout, DatasetReport, LoadDatasetOptions, SplitReport } from './dataset.js';
export { detectLayout, loadDatasetDir } from './dataset.js';
export { idsSha256, indexOf, rawIds } from './dataset-ids.js';
export type { Delimiter } from './delimited.js';
export { sniffDelimiter } from './delimited.js';
export type { ByteOrder, NpyArray, NpyStringArray } from './dtype.js';
export { isStringArray } from './dtype.js';
export type { ExtraProfiles } from './extra-profiles.js';
export { loadExtraProfiles } from './extra-profiles.js';
export { writeFileAtomic } from './files.js';
export type { DegreeStats, NormalizedAdjacencyOptions } from './graph.js';
export { degreeStats, itemDegreeStats, normalizedAdjacency, userDegreeStats } from './graph.js';
export type {
  ColumnRef,
  IndexedInteractions,
  IndexedSplits,
  IndexOptions,
  InteractionColumns,
  InteractionMatrixReport,
  InteractionTable,
  LoadedInteractions,
  ReadInteractionsOptions,
} from './interactions.js';
export {
  filterByRating,
  indexInteractions,
  interactionsToCsr,
  loadInteractions,
  readInteractions,
} from './interactions.js';
export type { EmbeddingReadOptions } from './loaders.js';
export {
  assertFinite,
  loadEmbeddings,
  loadSparseMatrix,
  readSparseMatrix,
  saveEmbeddings,
  toMatrix,
} from './loaders.js';
export type { DatasetManifest } from './manifest.js';
export { readManifest, validateManifest } from './manifest.js';
export type { EncodeNpyOptions, NpyHeader } from './npy.js';
export { encodeNpy, parseNpy, parseNpyHeader, readNpy, writeNpy } from './npy.js';
export type { EncodeNpzOptions, NpzArrays } from './npz.js';
export { encodeNpz, parseNpz, readNpz, writeNpz } from './npz.js';
export type { PickledArray, PickledSparse, PickleKey, PickleValue } from './pickle.js';
export { allowedPickleGlobals, parsePickle, readPickle } from './pickle.js';
export type {
  DatasetListing,
  DatasetLocation,
  DatasetName,
  DatasetOrigin,
  RegistryOptions,
} from './registry.js';
export {
  canonicalDatasetName,
  DATASET_NAMES,
  listDatasets,
  loadDataset,
  locateDataset,
  resolveDataset,
} from './registry.js';
export type { LoadedSparse, SparseLoadReport, SparseParts, SparseReadOptions } from './scipy-sparse.js';
export {
  denseToCsr,
  encodeScipyCsrNpz,
  isScipySparseNpz,
  saveSparseMatrix,
  scipyCsrArrays,
  scipySparsePartsFromNpz,
  sparsePartsFromPickle,
  sparsePartsToCsr,
} from './scipy-sparse.js';
export type { BuildCsrOptions, SparseBuildReport } from './sparse-build.js';
export { cooToCsr } from './sparse-build.js';
export type { SplitOptions } from './split.js';
export { partSizes, splitInteractions } from './split.js';
export type {
  ProfileOptions,
  ProfileRecord,
  ReadTextTableOptions,
  TextMapOptions,
  TextTable,
} from './text-tables.js';
export { alignTexts, loadIdMapper, loadProfiles, loadTextMap, readTextTable } from './text-tables.js';
export type { OverlapResult, SplitMatrices, SplitName } from './validate.js';
export {
  checkEmbeddingRows,
  checkSplitOverlap,
  checkSplitShapes,
  countOverlap,
  emptyRows,
  missingEntries,
} from './validate.js';
export type { ReadZipOptions, WriteZipOptions, ZipEntry } from './zip.js';
export { readZip, writeZip } from './zip.js';
