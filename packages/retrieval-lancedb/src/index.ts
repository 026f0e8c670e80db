export type { LanceModule } from './lance-io.js';
export { loadLance } from './lance-io.js';
export type { CreateLanceRetrieverOptions, LanceIndexEvent } from './lancedb-retriever.js';
export { createLanceRetriever, LanceRetriever, partitionsFor, probesFor } from './lancedb-retriever.js';
export type { FolderManifest, TableEntry } from './manifest.js';
export { isRemoteUri, MANIFEST_FILE } from './manifest.js';
export type {
  LanceIndexSettings,
  LanceRetrieverSettings,
  LanceRetrieverSettingsInput,
} from './settings.js';
export {
  lanceIndexSchema,
  lanceRetrieverSettingsSchema,
  lanceSearchSchema,
  parseLanceRetrieverSettings,
} from './settings.js';
