export { bundledDataDir, findRepoRoot, locateData, resolveDataDir } from './data-dir.js';
