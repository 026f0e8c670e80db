import { resolveApiKey } from '@promax/core';
import OpenAI from 'openai';
import { type EndpointSettings, endpointSettingsSchema, parseSettings } from './settings.js';

/** The part of an OpenAI SDK client the jobs use (inject `new OpenAI(...)` or `createChatClient(...)`). */
export type ChatClient = Pick<OpenAI, 'chat'>;

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
