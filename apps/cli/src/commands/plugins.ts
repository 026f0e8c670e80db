import { parseArgs } from 'node:util';
import { type LoadedPlugin, loadPlugins } from '@promax/pipeline';
import type { Io } from '../io.js';
import { pluginSearch } from '../training/run-training.js';
import type { Command } from './command.js';

/** The top-level settings of a plugin with their defaults, e.g. `layers=3 embeddingSize=32`. */
function settingsLine(plugin: LoadedPlugin): string {
  const defaults = plugin.definition.defaults as Record<string, unknown>;
  return Object.entries(defaults)
    .map(
      ([k, v]) =>
        `${k}=${typeof v === 'object' && v !== null && !Array.isArray(v) ? `{${Object.keys(v).join(',')}}` : JSON.stringify(v)}`,
    )
    .join(' ');
}

function listing(kind: 'model' | 'method') {
  return async (argv: string[], io: Io): Promise<number> => {
    const { values } = parseArgs({
      args: argv,
      options: {
        json: { type: 'boolean', default: false },
        plugin: { type: 'string', multiple: true, default: [] },
      },
      strict: true,
    });
    const plugins = (await loadPlugins(pluginSearch(io.cwd, values.plugin))).filter((p) => p.kind === kind);
    if (values.json) {
      io.out(
        `${JSON.stringify(
          plugins.map((p) => ({
            id: p.definition.id,
            package: p.packageName,
            dir: p.dir,
            description: p.definition.description,
            defaults: p.definition.defaults,
            presets: Object.keys(p.definition.presets ?? {}),
            ...(p.kind === 'method'
              ? {
                  inputs: p.definition.inputs,
                  adaptation: p.definition.adaptation ?? null,
                  tunable: p.definition.tunable ?? null,
                }
              : { inputs: p.definition.inputs ?? [] }),
          })),
        )}\n`,
      );
      return 0;
    }
    const lines: string[] = [];
    for (const p of plugins) {
      const d = p.definition;
      const adaptation =
        p.kind === 'method' && p.definition.adaptation ? ` [adaptation: ${p.definition.adaptation}]` : '';
      lines.push(`${d.id.padEnd(12)} ${d.description}${adaptation}`);
      lines.push(`${''.padEnd(12)} package ${p.packageName}; settings: ${settingsLine(p) || '(none)'}`);
      const presets = Object.keys(d.presets ?? {});
      if (presets.length) lines.push(`${''.padEnd(12)} presets: ${presets.join(', ')}`);
      const tunable = p.kind === 'method' ? Object.entries(p.definition.tunable ?? {}) : [];
      if (tunable.length)
        lines.push(
          `${''.padEnd(12)} tune searches: ${tunable.map(([k, kind]) => `${k} (${kind})`).join(', ')}`,
        );
      for (const i of p.definition.inputs ?? [])
        lines.push(`${''.padEnd(12)} input ${i.kind} (${i.need}): ${i.purpose}`);
    }
    io.out(`${lines.join('\n') || `no ${kind} plugins found`}\n`);
    return 0;
  };
}

export const modelsCommand: Command = {
  summary: 'list the installed base-model plugins, with their settings, presets and inputs',
  usage: `promax models [--json] [--plugin PACKAGE_OR_DIR ...]

Lists every base model found: @promax/model-* and promax-model-* packages in node_modules above the
working directory, members of the pnpm workspace around it, and --plugin entries.`,
  run: listing('model'),
};

export const methodsCommand: Command = {
  summary: 'list the installed method plugins (ProMax, …), with their inputs, settings and presets',
  usage: `promax methods [--json] [--plugin PACKAGE_OR_DIR ...]

Lists every method found: @promax/method-* and promax-method-* packages in node_modules above the
working directory, members of the pnpm workspace around it, and --plugin entries.`,
  run: listing('method'),
};
