import { PromaxError } from './errors.js';

const OPENAI_HOST = 'api.openai.com';

/**
 * The one place where an API key falls back to the environment (chat and embedding endpoints
 * alike): the given key first, then `OPENAI_API_KEY`. A custom (local) endpoint without any key
 * gets a placeholder, since such servers usually ignore it; the official endpoint without a key is
 * a config error. The key is never logged or written by the project.
 */
export function resolveApiKey(
  settings: { readonly apiKey?: string; readonly baseURL?: string },
  env: NodeJS.ProcessEnv = process.env,
  what = 'the OpenAI endpoint',
): string {
  const key = settings.apiKey ?? env.OPENAI_API_KEY;
  if (key) return key;
  if (settings.baseURL && !settings.baseURL.includes(OPENAI_HOST)) return 'no-key';
  throw new PromaxError({
    code: 'INVALID_CONFIG',
    message: `no API key for ${what}`,
    field: 'apiKey',
    fix: 'set OPENAI_API_KEY, pass apiKey, or point baseURL at an OpenAI-compatible server that needs none',
  });
}
