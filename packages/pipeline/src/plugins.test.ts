import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PromaxError } from '@promax/core';
import { describe, expect, it } from 'vitest';
import {
  findPluginPackages,
  loadPlugin,
  loadPlugins,
  pluginNameInfo,
  pluginPackageNames,
} from './plugins.js';

/** A plugin package on disk: package.json + an ESM entry exporting `source`. */
function writePackage(dir: string, name: string, source: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name, type: 'module', exports: { '.': { default: './index.js' } } }),
  );
  writeFileSync(join(dir, 'index.js'), source);
  return dir;
}

const modelDef = (id: string, pkg: string) => `
const schema = { safeParse: (v) => ({ success: true, data: v ?? {} }), parse: (v) => v ?? {} };
export const definition = {
  kind: 'model', specificationVersion: 'v1', id: '${id}', packageName: '${pkg}',
  description: 'a test model', settingsSchema: schema, defaults: {}, create: () => ({}),
};`;
const methodDef = (id: string, pkg: string) => `
const schema = { safeParse: (v) => ({ success: true, data: v ?? {} }), parse: (v) => v ?? {} };
export default {
  kind: 'method', specificationVersion: 'v1', id: '${id}', packageName: '${pkg}',
  description: 'a test method', settingsSchema: schema, defaults: {}, inputs: [], create: () => ({}),
};`;

function project(): string {
  const root = mkdtempSync(join(tmpdir(), 'promax-plugins-'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  return root;
}

describe('plugin discovery (found by package name, never listed)', () => {
  it('reads the naming convention both ways', () => {
    expect(pluginNameInfo('@promax/model-lightgcn')).toEqual({ kind: 'model', id: 'lightgcn' });
    expect(pluginNameInfo('promax-method-kar')).toEqual({ kind: 'method', id: 'kar' });
    expect(pluginNameInfo('@promax/testkit')).toBeUndefined();
    expect(pluginNameInfo('@other/promax-model-x')).toBeUndefined();
    expect(pluginPackageNames('method', 'proex')).toEqual(['@promax/method-proex', 'promax-method-proex']);
  });

  it('finds plugins in node_modules and in the pnpm workspace, and loads them by id', async () => {
    const root = project();
    writePackage(
      join(root, 'node_modules', '@promax', 'model-alpha'),
      '@promax/model-alpha',
      modelDef('alpha', '@promax/model-alpha'),
    );
    writePackage(
      join(root, 'node_modules', 'promax-method-beta'),
      'promax-method-beta',
      methodDef('beta', 'promax-method-beta'),
    );
    writeFileSync(join(root, 'pnpm-workspace.yaml'), 'packages:\n  - models/*\nallowBuilds:\n  x: true\n');
    writePackage(
      join(root, 'models', 'gamma'),
      '@promax/model-gamma',
      modelDef('gamma', '@promax/model-gamma'),
    );
    const found = findPluginPackages({ cwd: root });
    expect(found.map((p) => `${p.kind}:${p.id}`)).toEqual(['method:beta', 'model:alpha', 'model:gamma']);
    expect((await loadPlugin('model', 'gamma', { cwd: root })).id).toBe('gamma');
    expect((await loadPlugin('method', 'beta', { cwd: root })).description).toBe('a test method');
    expect((await loadPlugins({ cwd: root })).length).toBe(3);
  });

  it('an unknown id is PLUGIN_NOT_FOUND with the installed ids and the closest one', async () => {
    const root = project();
    writePackage(
      join(root, 'node_modules', '@promax', 'model-lightgcn'),
      '@promax/model-lightgcn',
      modelDef('lightgcn', '@promax/model-lightgcn'),
    );
    const err = await loadPlugin('model', 'lightgnc', { cwd: root }).catch((e) => e);
    expect(PromaxError.isInstance(err) && err.code).toBe('PLUGIN_NOT_FOUND');
    expect(String(err)).toMatch(
      /unknown model 'lightgnc' — did you mean 'lightgcn'\?.*@promax\/model-lightgnc and promax-model-lightgnc/,
    );
  });

  it('a package that exports no valid definition is INVALID_PLUGIN naming the package and why', async () => {
    const root = project();
    writePackage(
      join(root, 'node_modules', '@promax', 'model-empty'),
      '@promax/model-empty',
      'export const nothing = 1;',
    );
    writePackage(
      join(root, 'node_modules', 'promax-method-wrongid'),
      'promax-method-wrongid',
      methodDef('other', 'promax-method-wrongid'),
    );
    const empty = await loadPlugin('model', 'empty', { cwd: root }).catch((e) => e);
    expect(PromaxError.isInstance(empty) && empty.code).toBe('INVALID_PLUGIN');
    expect(String(empty)).toMatch(/@promax\/model-empty cannot be used: it exports no model definition/);
    const wrong = await loadPlugin('method', 'wrongid', { cwd: root }).catch((e) => e);
    expect(String(wrong)).toMatch(
      /promax-method-wrongid cannot be used: its definition is not valid: id 'other' does not match/,
    );
  });

  it('two plugins with one name are INVALID_PLUGIN naming both packages', async () => {
    const root = project();
    writePackage(
      join(root, 'node_modules', '@promax', 'method-twin'),
      '@promax/method-twin',
      methodDef('twin', '@promax/method-twin'),
    );
    writePackage(
      join(root, 'node_modules', 'promax-method-twin'),
      'promax-method-twin',
      methodDef('twin', 'promax-method-twin'),
    );
    const err = await loadPlugin('method', 'twin', { cwd: root }).catch((e) => e);
    expect(PromaxError.isInstance(err) && err.code).toBe('INVALID_PLUGIN');
    expect(String(err)).toMatch(
      /two method plugins are named 'twin': @promax\/method-twin .* and promax-method-twin/,
    );
    await expect(loadPlugins({ cwd: root })).rejects.toThrow(/two method plugins are named 'twin'/);
  });

  it('loads a folder or package listed in plugins:, and refuses one not named like a plugin', async () => {
    const root = project();
    const elsewhere = mkdtempSync(join(tmpdir(), 'promax-plugin-dir-'));
    writePackage(elsewhere, 'promax-model-outside', modelDef('outside', 'promax-model-outside'));
    expect((await loadPlugin('model', 'outside', { cwd: root, plugins: [elsewhere] })).id).toBe('outside');
    const odd = writePackage(
      mkdtempSync(join(tmpdir(), 'promax-odd-')),
      'not-a-plugin',
      modelDef('x', 'not-a-plugin'),
    );
    expect(() => findPluginPackages({ cwd: root, plugins: [odd] })).toThrow(/not named like a plugin/);
    expect(() => findPluginPackages({ cwd: root, plugins: ['promax-model-missing'] })).toThrow(
      /was not found/,
    );
  });
});
