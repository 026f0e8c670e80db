import { PromaxError } from '@promax/core';
import OpenAI from 'openai';
import { type EndpointSettings, endpointSettingsSchema, parseSettings } from './settings.js';

/** The part of an OpenAI SDK client the jobs use (inject `new OpenAI(...)` or `createChatClient(...)`). */
export type ChatClient = Pick<OpenAI, 'chat'>;

const OPENAI_HOST = 'api.openai.com';

/**
 * The one place where the API key falls back to the environment: settings first, then
 * `OPENAI_API_KEY`. A custom (local) endpoint without any key gets a placeholder, since such
 * servers usually ignore it; the official endpoint without a key is a config error.
 */
export function resolveApiKey(
  settings: Pick<EndpointSettings, 'apiKey' | 'baseURL'>,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const key = settings.apiKey ?? env.OPENAI_API_KEY;
  if (key) return key;
  if (settings.baseURL && !settings.baseURL.includes(OPENAI_HOST)) return 'no-key';
  throw new PromaxError({
    code: 'INVALID_CONFIG',
    message: 'no API key for the OpenAI endpoint',
    field: 'apiKey',
    fix: 'set OPENAI_API_KEY, pass apiKey, or point baseURL at an OpenAI-compatible server that needs none',
  });
}

/**
 * Creates an OpenAI SDK client for any OpenAI-compatible endpoint. The SDK's own retries are
 * switched off (`maxRetries: 0`): the job machinery retries itself so every attempt is counted
 * and rate limits are honoured across concurrent requests.
 */
export function createChatClient(
  settings: EndpointSettings = {},
  env: NodeJS.ProcessEnv = process.env,
): OpenAI {
  const s = parseSettings(endpointSettingsSchema, settings, 'endpoint');
  return new OpenAI({
    apiKey: resolveApiKey(s, env),
    baseURL: s.baseURL,
    organization: s.organization ?? null,
    defaultHeaders: s.defaultHeaders,
    maxRetries: 0,
  });
}
