import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { type ProgressHandler, PromaxError } from '@promax/core';
import type { ChatClient, ChatMessage } from '@promax/profiles';
import type {
  ChatHistoryItem,
  ChatWrapper,
  Llama,
  LlamaChat,
  LlamaCompletion,
  LlamaContext,
  LlamaContextSequence,
  LlamaGrammar,
  LlamaModel,
} from 'node-llama-cpp';
import { BadRequestError } from 'openai';
import type { z } from 'zod';
import { grammarSchemaOf } from './answer-schema.js';
import { fitPromptToBudget } from './context-fit.js';
import {
  checkGgufHeader,
  countMetadataEntries,
  fileSha256,
  type GgufSummary,
  summarizeGguf,
} from './gguf-file.js';
import {
  type LocalModelSettings,
  type LocalModelSettingsInput,
  parseLocalModelSettings,
} from './settings.js';

type LlamaCpp = typeof import('node-llama-cpp');
let llamaCpp: Promise<LlamaCpp> | undefined;
/**
 * node-llama-cpp is loaded on first use, not on import: the native module installs process signal
 * handlers, so importing this package (as the CLI does for its flags) must not load it.
 */
const loadLlamaCpp = (): Promise<LlamaCpp> => {
  llamaCpp ??= import('node-llama-cpp');
  return llamaCpp;
};

/** What the loaded model is; recorded in run manifests. */
export interface LocalModelInfo extends GgufSummary {
  /** sha256 of the GGUF file: part of the model id and so of every store key and prompt hash. */
  sha256: string;
  /** `<file name>@sha256:<hex>`: the model name to give the jobs. */
  modelId: string;
  promptFormat: 'chat' | 'completion';
  /** The chat wrapper in use (chat format only). */
  chatWrapper?: string;
  contextSize: number;
  parallel: number;
  threads: number;
  gpuLayers: number;
  /** GPU backend in use, or false for CPU only. */
  gpu: string | false;
  loadMs: number;
}

/** Counters over the model's lifetime (read them for run reports). */
export interface LocalModelStats {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  /** Wall time spent inside requests, summed over parallel sequences. */
  busyMs: number;
  /** Requests whose history was shortened to fit the context. */
  truncatedRequests: number;
  /** History entries dropped (oldest first) over all requests. */
  truncatedEntries: number;
  /** Requests refused because even an empty history did not fit (answered with HTTP 400). */
  contextOverflows: number;
}

/** The answer schema: one for every request, or chosen per request from its messages. */
export type ResponseSchemaOption = z.ZodType | ((messages: readonly ChatMessage[]) => z.ZodType | undefined);

export interface LoadLocalChatModelOptions {
  settings: LocalModelSettingsInput;
  /**
   * The zod schema answers are validated with: generation is constrained by a grammar built from
   * it, so every answer parses. Without it, `response_format: json_object` requests get a generic
   * JSON grammar and others are free text.
   */
  responseSchema?: ResponseSchemaOption;
  onProgress?: ProgressHandler;
}

interface RequestBody {
  messages?: { role: string; content: unknown }[];
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  seed?: number;
  response_format?: { type: string; json_schema?: { schema?: unknown } };
}

/** The OpenAI chat-completion shape the jobs read. */
export interface LocalChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: {
    index: number;
    message: { role: 'assistant'; content: string; refusal: null };
    finish_reason: 'stop' | 'length';
    logprobs: null;
  }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

interface Slot {
  sequence: LlamaContextSequence;
  chat?: LlamaChat;
  completion?: LlamaCompletion;
}

// Tokens kept free beyond the prompt and the answer (template tokens the count may miss).
const SAFETY_TOKENS = 16;

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content.map((p) => (typeof p === 'object' && p && 'text' in p ? String(p.text) : '')).join('');
  return '';
}

function hasBrokenKey(node: unknown): boolean {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return false;
  return Object.entries(node).some(([k, v]) => k === '' || k.includes('\u0000') || hasBrokenKey(v));
}

/** A plain text rendering of a conversation for models without a chat template. */
export function completionPrompt(messages: readonly ChatMessage[]): string {
  const parts = messages.map((m) =>
    m.role === 'system' ? m.content : m.role === 'user' ? `Request:\n${m.content}` : `Answer:\n${m.content}`,
  );
  return `${parts.join('\n\n')}\n\nAnswer:\n`;
}

function toHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((m) =>
    m.role === 'system'
      ? { type: 'system', text: m.content }
      : m.role === 'user'
        ? { type: 'user', text: m.content }
        : { type: 'model', response: [m.content] },
  );
  history.push({ type: 'model', response: [] });
  return history;
}

/**
 * A chat model running in this process on node-llama-cpp: it implements the part of the OpenAI
 * client the profile and re-ranking jobs call (`chat.completions.create`), so they run unchanged
 * with no server and no key. Requests beyond `parallel` wait for a free sequence; sequences are
 * evaluated together in one batch. Answers are constrained by a JSON-schema grammar derived from
 * the answer's zod schema. Temperature 0 is greedy decoding: the same prompt gives the same answer.
 */
export class LocalChatModel implements ChatClient {
  readonly info: LocalModelInfo;
  readonly stats: LocalModelStats = {
    requests: 0,
    promptTokens: 0,
    completionTokens: 0,
    busyMs: 0,
    truncatedRequests: 0,
    truncatedEntries: 0,
    contextOverflows: 0,
  };
  readonly chat: ChatClient['chat'];

  private readonly free: Slot[];
  private readonly waiting: ((slot: Slot) => void)[] = [];
  private readonly grammars = new WeakMap<object, Promise<LlamaGrammar>>();
  private jsonGrammar?: Promise<LlamaGrammar>;
  private disposed = false;
  private counter = 0;

  private constructor(
    cpp: LlamaCpp,
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly wrapper: ChatWrapper | undefined,
    private readonly settings: LocalModelSettings,
    private readonly responseSchema: ResponseSchemaOption | undefined,
    private readonly onProgress: ProgressHandler | undefined,
    info: LocalModelInfo,
  ) {
    this.info = info;
    this.free = Array.from({ length: settings.parallel }, () => {
      const sequence = context.getSequence();
      return wrapper
        ? { sequence, chat: new cpp.LlamaChat({ contextSequence: sequence, chatWrapper: wrapper }) }
        : { sequence, completion: new cpp.LlamaCompletion({ contextSequence: sequence }) };
    });
    const create = (body: unknown, options?: { signal?: AbortSignal | null }) =>
      this.complete(body as RequestBody, options?.signal ?? undefined);
    this.chat = { completions: { create } } as unknown as ChatClient['chat'];
  }

  /**
   * Loads a GGUF: checks the file (missing, not GGUF, not a language model: named errors),
   * hashes it, loads the weights and creates one context with `parallel` sequences.
   */
  static async load(options: LoadLocalChatModelOptions): Promise<LocalChatModel> {
    const settings = parseLocalModelSettings(options.settings);
    const path = settings.modelPath;
    const started = Date.now();
    const declared = await checkGgufHeader(path);
    const cpp = await loadLlamaCpp();
    let metadata: Record<string, unknown>;
    try {
      const info = await cpp.readGgufFileInfo(path, { readTensorInfo: true });
      metadata = info.metadata as unknown as Record<string, unknown>;
      // The reader reads past the end of a cut file as zeros, so check the layout against the size.
      const size = statSync(path).size;
      const found = countMetadataEntries(metadata);
      if (found < declared || hasBrokenKey(metadata))
        throw new Error(`the metadata is unreadable (${declared} entries declared)`);
      const lastTensor = Math.max(0, ...(info.tensorInfo ?? []).map((t) => Number(t.offset)));
      if (Number(info.infoEndOffset) > size || Number(info.infoEndOffset) + lastTensor > size)
        throw new Error(`the file has ${size} bytes, fewer than its header describes`);
    } catch (cause) {
      throw new PromaxError({
        code: 'INVALID_FILE',
        file: path,
        field: 'modelPath',
        message: `the GGUF header cannot be read (${cause instanceof Error ? cause.message : String(cause)}); the file is truncated or corrupt`,
        fix: 'download the model again and compare its SHA-256 (tools/fetch-gguf.sh verifies it)',
        cause,
      });
    }
    const summary = summarizeGguf(path, statSync(path).size, metadata);
    options.onProgress?.({ type: 'info', message: `hashing ${basename(path)}` });
    const sha256 = await fileSha256(path);
    const llama = await cpp.getLlama({
      build: 'never',
      gpu: settings.gpuLayers === 0 ? false : 'auto',
      logLevel: cpp.LlamaLogLevel.error,
      logger: (level, message) => {
        if (level === cpp.LlamaLogLevel.error || level === cpp.LlamaLogLevel.fatal)
          options.onProgress?.({ type: 'warning', code: 'LLAMA_CPP', message: message.trim() });
      },
      progressLogs: false,
    });
    let model: LlamaModel | undefined;
    try {
      model = await llama.loadModel({ modelPath: path, gpuLayers: settings.gpuLayers });
      const context = await model.createContext({
        contextSize: settings.contextSize * settings.parallel,
        sequences: settings.parallel,
        threads: settings.threads,
        batchSize: settings.batchSize,
      });
      const wrapper = LocalChatModel.chooseWrapper(cpp, model, summary, settings.promptFormat);
      const info: LocalModelInfo = {
        ...summary,
        sha256,
        modelId: `${basename(path)}@sha256:${sha256}`,
        promptFormat: wrapper ? 'chat' : 'completion',
        contextSize: Math.floor(context.contextSize / settings.parallel),
        parallel: settings.parallel,
        threads: context.currentThreads,
        gpuLayers: model.gpuLayers,
        gpu: llama.gpu,
        loadMs: Date.now() - started,
      };
      if (wrapper) info.chatWrapper = wrapper.wrapperName;
      options.onProgress?.({
        type: 'info',
        message: `loaded ${basename(path)} (${summary.architecture}, ${info.promptFormat}${info.chatWrapper ? ` ${info.chatWrapper}` : ''}) in ${info.loadMs} ms`,
        data: { ...info },
      });
      return new LocalChatModel(
        cpp,
        llama,
        model,
        context,
        wrapper,
        settings,
        options.responseSchema,
        options.onProgress,
        info,
      );
    } catch (cause) {
      await model?.dispose();
      await llama.dispose();
      if (PromaxError.isInstance(cause)) throw cause;
      throw new PromaxError({
        code: 'ENGINE_ERROR',
        file: path,
        field: 'modelPath',
        message: `llama.cpp could not load the model: ${cause instanceof Error ? cause.message : String(cause)}`,
        fix: 'check the file is a complete GGUF of an architecture llama.cpp supports; lower --llm-context or --llm-parallel if memory ran out',
        cause,
      });
    }
  }

  private static chooseWrapper(
    cpp: LlamaCpp,
    model: LlamaModel,
    summary: GgufSummary,
    format: LocalModelSettings['promptFormat'],
  ): ChatWrapper | undefined {
    if (format === 'completion') return undefined;
    const wrapper = cpp.resolveChatWrapper(model, { warningLogs: false });
    // GeneralChatWrapper is node-llama-cpp's guess for a model it does not recognise: a base
    // model without a template reads a plain prompt better than an invented chat format.
    if (format === 'auto' && !summary.hasChatTemplate && wrapper instanceof cpp.GeneralChatWrapper)
      return undefined;
    return wrapper;
  }

  /** Tokens a conversation takes in this model's prompt format. */
  countTokens(messages: readonly ChatMessage[]): number {
    if (!this.wrapper) return this.model.tokenize(completionPrompt(messages)).length;
    const { contextText } = this.wrapper.generateContextState({ chatHistory: toHistory(messages) });
    return contextText.tokenize(this.model.tokenizer).length;
  }

  private grammarFor(messages: readonly ChatMessage[], body: RequestBody): Promise<LlamaGrammar> | undefined {
    const schema =
      typeof this.responseSchema === 'function' ? this.responseSchema(messages) : this.responseSchema;
    if (schema) {
      let g = this.grammars.get(schema);
      if (!g) {
        g = this.llama.createGrammarForJsonSchema(grammarSchemaOf(schema) as never) as Promise<LlamaGrammar>;
        this.grammars.set(schema, g);
      }
      return g;
    }
    if (body.response_format?.type === 'json_object') {
      this.jsonGrammar ??= this.llama.getGrammarFor('json');
      return this.jsonGrammar;
    }
    return undefined;
  }

  private acquire(signal: AbortSignal | undefined): Promise<Slot> {
    const slot = this.free.pop();
    if (slot) return Promise.resolve(slot);
    return new Promise((resolve, reject) => {
      const take = (s: Slot): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(s);
      };
      const onAbort = (): void => {
        const k = this.waiting.indexOf(take);
        if (k >= 0) this.waiting.splice(k, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(take);
    });
  }

  private release(slot: Slot): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else this.free.push(slot);
  }

  private async complete(body: RequestBody, signal: AbortSignal | undefined): Promise<LocalChatCompletion> {
    if (this.disposed) {
      throw new PromaxError({
        code: 'INVALID_ARGUMENT',
        message: 'the local model was disposed',
        fix: 'load it again with LocalChatModel.load',
      });
    }
    signal?.throwIfAborted();
    const messages: ChatMessage[] = (body.messages ?? []).map((m) => ({
      role: m.role === 'system' || m.role === 'assistant' ? m.role : 'user',
      content: contentText(m.content),
    }));
    const maxTokens = body.max_tokens ?? body.max_completion_tokens ?? this.settings.defaultMaxTokens;
    const budget = this.info.contextSize - maxTokens - SAFETY_TOKENS;
    const fitted = fitPromptToBudget(messages, budget, (m) => this.countTokens(m));
    if (!fitted) {
      this.stats.contextOverflows++;
      const message = `the prompt does not fit the context of ${this.info.contextSize} tokens with ${maxTokens} left for the answer, even with its history list emptied`;
      throw new BadRequestError(
        400,
        { message, type: 'invalid_request_error', code: 'context_length_exceeded' },
        message,
        new Headers(),
      );
    }
    if (fitted.truncated > 0) {
      this.stats.truncatedRequests++;
      this.stats.truncatedEntries += fitted.truncated;
      this.onProgress?.({
        type: 'warning',
        code: 'HISTORY_TRUNCATED',
        message: `a prompt's history was cut from ${fitted.historyEntries} to ${fitted.historyEntries - fitted.truncated} entries (oldest first) to fit ${this.info.contextSize} tokens`,
      });
    }
    const grammar = await this.grammarFor(fitted.messages, body);
    const temperature = body.temperature ?? 0;
    const seed = body.seed ?? this.settings.seed;
    const slot = await this.acquire(signal);
    const started = Date.now();
    const outBefore = slot.sequence.tokenMeter.usedOutputTokens;
    try {
      let text: string;
      let stop: string;
      if (slot.chat) {
        const res = await slot.chat.generateResponse(toHistory(fitted.messages), {
          grammar,
          maxTokens,
          temperature,
          seed,
          signal,
          repeatPenalty: this.repeatPenalty(),
        });
        text = res.response;
        stop = res.metadata.stopReason;
      } else {
        // A plain prompt starts a fresh sequence each time (no template to reuse a prefix of).
        await slot.sequence.clearHistory();
        const res = await (slot.completion as LlamaCompletion).generateCompletionWithMeta(
          completionPrompt(fitted.messages),
          { grammar, maxTokens, temperature, seed, signal, repeatPenalty: this.repeatPenalty() },
        );
        text = res.response;
        stop = res.metadata.stopReason;
      }
      const completionTokens = slot.sequence.tokenMeter.usedOutputTokens - outBefore;
      this.stats.requests++;
      this.stats.promptTokens += fitted.tokens;
      this.stats.completionTokens += completionTokens;
      this.stats.busyMs += Date.now() - started;
      return {
        id: `local-${++this.counter}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: this.info.modelId,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: text, refusal: null },
            finish_reason: stop === 'maxTokens' ? 'length' : 'stop',
            logprobs: null,
          },
        ],
        usage: {
          prompt_tokens: fitted.tokens,
          completion_tokens: completionTokens,
          total_tokens: fitted.tokens + completionTokens,
        },
      };
    } finally {
      this.release(slot);
    }
  }

  private repeatPenalty(): false | { penalty: number; lastTokens: number } {
    const penalty = this.settings.repeatPenalty;
    return penalty > 1 ? { penalty, lastTokens: 64 } : false;
  }

  /** Frees the context, the weights and the llama.cpp backend. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
}

/** Loads a GGUF as an in-process chat model (see `LocalChatModel`). */
export function loadLocalChatModel(options: LoadLocalChatModelOptions): Promise<LocalChatModel> {
  return LocalChatModel.load(options);
}
