import { projectConfig } from '../../scripts/vitest.shared.mjs';

export default projectConfig('@promax/model-alpharec');
