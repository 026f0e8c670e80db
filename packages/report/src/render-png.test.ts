// Renders a report chart to PNG with a real SVG rasteriser (rsvg-convert, else ImageMagick with SVG
// support) and checks the picture: size, white background, the series' colours, dark text.
// Skips with the reason printed where neither is installed (apt-get install librsvg2-bin).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { lineChart, PALETTE } from './svg.js';

type Rasteriser = { name: string; args: (svg: string, png: string) => [string, string[]] };

function findRasteriser(): Rasteriser | { reason: string } {
  const ok = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  if (ok('rsvg-convert', ['--version']).status === 0)
    return { name: 'rsvg-convert', args: (svg, png) => ['rsvg-convert', ['-o', png, svg]] };
  for (const cmd of ['magick', 'convert']) {
    const v = ok(cmd, ['-version']);
    // some machines have a `convert` that is not ImageMagick (or lacks an SVG coder)
    if (v.status !== 0 || !/ImageMagick/.test(v.stdout ?? '')) continue;
    if (!/^\s*SVG\S*\s+\S+\s+r/m.test(ok(cmd, ['-list', 'format']).stdout ?? '')) continue;
    return { name: cmd, args: (svg, png) => [cmd, ['-background', 'white', svg, `PNG32:${png}`]] };
  }
  return {
    reason:
      'no SVG rasteriser: neither rsvg-convert (apt-get install librsvg2-bin) nor ImageMagick with SVG support is installed',
  };
}

/** Minimal PNG decoder: 8-bit RGB or RGBA, not interlaced (what the rasterisers above write). */
function decodePng(buf: Buffer): { width: number; height: number; channels: number; pixels: Uint8Array } {
  expect(buf.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, colour, , , interlace] = [data[8], data[9], data[10], data[11], data[12]];
      expect({ depth, interlace }).toEqual({ depth: 8, interlace: 0 });
      expect([2, 6]).toContain(colour);
      channels = colour === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] as number;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? (pixels[y * stride + x - channels] as number) : 0;
      const b = y > 0 ? (pixels[(y - 1) * stride + x] as number) : 0;
      const c = x >= channels && y > 0 ? (pixels[(y - 1) * stride + x - channels] as number) : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      const predictor = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][
        filter
      ] as number;
      pixels[y * stride + x] = ((line[x] as number) + predictor) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

const rasteriser = findRasteriser();
const skipReason = 'reason' in rasteriser ? rasteriser.reason : undefined;

describe('report charts rendered to PNG', () => {
  it.skipIf(skipReason)('renders a line chart with its series, reference, axes and text', () => {
    const r = rasteriser as Rasteriser;
    const dir = mkdtempSync(join(tmpdir(), 'promax-png-'));
    const epochs = Array.from({ length: 20 }, (_, k) => 3 * (k + 1));
    const svg = lineChart({
      title: 'Validation recall@20 — amazon-book',
      xLabel: 'epoch',
      yLabel: 'recall@20 (validation)',
      series: [
        {
          name: 'lightgcn seed 2025',
          points: epochs.map((e) => ({ x: e, y: 0.09 + 0.05 * (1 - Math.exp(-e / 20)) })),
        },
        {
          name: 'lightgcn+ProMax (S2DR) seed 2025',
          points: epochs.map((e) => ({ x: e, y: 0.095 + 0.06 * (1 - Math.exp(-e / 18)) })),
        },
        {
          name: "authors' LightGCN+ProMax (log)",
          points: epochs.map((e) => ({ x: e, y: 0.1 + 0.055 * (1 - Math.exp(-e / 25)) })),
          dashed: true,
        },
      ],
    });
    const svgPath = join(dir, 'chart.svg');
    const pngPath = join(dir, 'chart.png');
    writeFileSync(svgPath, svg);
    const [cmd, args] = r.args(svgPath, pngPath);
    const run = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
    expect(run.status, run.stderr).toBe(0);
    console.info(`rendered with ${r.name}: ${pngPath}`);

    const png = decodePng(readFileSync(pngPath));
    const [w, h] = [/width="(\d+)"/.exec(svg)?.[1], /height="(\d+)"/.exec(svg)?.[1]].map(Number);
    expect([png.width, png.height]).toEqual([w, h]);
    const px = (x: number, y: number) =>
      Array.from(
        png.pixels.subarray((y * png.width + x) * png.channels, (y * png.width + x) * png.channels + 3),
      );
    expect(px(2, 2)).toEqual([255, 255, 255]);
    const near = (hex: string, tol = 12) => {
      const [R, G, B] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [
        number,
        number,
        number,
      ];
      let n = 0;
      for (let y = 0; y < png.height; y++) {
        for (let x = 0; x < png.width; x++) {
          const [pr, pg, pb] = px(x, y) as [number, number, number];
          if (Math.abs(pr - R) <= tol && Math.abs(pg - G) <= tol && Math.abs(pb - B) <= tol) n++;
        }
      }
      return n;
    };
    // each solid series (lines + markers + legend swatch) and the grey dashed reference are drawn
    expect(near(PALETTE[0] as string)).toBeGreaterThan(150);
    expect(near(PALETTE[1] as string)).toBeGreaterThan(150);
    expect(near('#7f7f7f')).toBeGreaterThan(60);
    // the bold title is drawn in dark pixels across the top band
    let dark = 0;
    for (let y = 8; y < 40; y++) for (let x = 0; x < png.width; x++) if (Math.max(...px(x, y)) < 90) dark++;
    expect(dark).toBeGreaterThan(300);
  });
  if (skipReason) console.warn(`skipping the PNG rendering check: ${skipReason}`);
});
