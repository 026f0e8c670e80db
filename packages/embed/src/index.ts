export type {
  EmbedCallOptions,
  EmbedCallResult,
  Embedder,
  EmbeddingUsage,
  EmbedManyOptions,
  EmbedManyResult,
} from './embedder.js';
export { embedMany } from './embedder.js';
export type {
  EmbeddingCacheManifest,
  EmbedWithCacheOptions,
  EmbedWithCacheResult,
} from './embedding-cache.js';
export { clearEmbeddingCache, embedWithCache, hashTextList } from './embedding-cache.js';
export type { EmbeddingPair, EmbedManifestView } from './embedding-files.js';
export {
  countZeroRows,
  EMBEDDING_FILES,
  loadEmbeddingPair,
  variantEmbeddingFile,
} from './embedding-files.js';
export type { NpyFloat32 } from './npy.js';
export { decodeNpyFloat32, encodeNpyFloat32 } from './npy.js';
export type { OnnxEmbedderSettings } from './onnx-embedder.js';
export { createOnnxEmbedder, OnnxEmbedder } from './onnx-embedder.js';
export type {
  EmbeddingRequestStats,
  EmbeddingRetryCause,
  EmbeddingsClientLike,
  EmbeddingsRequestBody,
  EmbeddingsResponseLike,
  OpenAIEmbedderSettings,
} from './openai-embedder.js';
export {
  createFetchEmbeddingsClient,
  createOpenAIEmbedder,
  decodeBase64Float32,
  OPENAI_EMBEDDER_DEFAULTS,
  OpenAIEmbedder,
} from './openai-embedder.js';
export { l2NormalizeRowsImpl, meanPoolImpl } from './pooling.js';
export type {
  BertNormalization,
  EncodedBatch,
  Encoding,
  LoadTokenizerOptions,
  WordPieceConfig,
} from './wordpiece-tokenizer.js';
export { loadWordPieceTokenizer, WordPieceTokenizer } from './wordpiece-tokenizer.js';
