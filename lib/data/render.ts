/**
 * Draw a sample: its image (upscaled, pixels kept sharp), the ground-truth box, any predicted
 * boxes, and the query as a caption. PNG bytes, for notebooks, figures and debugging.
 */
import sharp from 'sharp';
import type { Box } from '../boxes';
import { imageRgb } from './images';
import type { SampleImage } from './samples';

export type DrawnBox = { box: Box; label?: string; color?: string };

export type RenderOptions = {
  /** pixels per image pixel */
  scale?: number;
  /** predicted (or any other) boxes, drawn over the ground truth */
  boxes?: DrawnBox[];
  /** ground-truth boxes (green) */
  gt?: Box[];
  /** caption above the image (the query) */
  caption?: string;
  /**
   * outlined regions (masks as polygons in image pixels, e.g. `maskPolygons`): filled translucent,
   * outlined in their colour, under the boxes
   */
  regions?: { polygons: [number, number][][][]; color: string }[];
};

const PALETTE = ['#ff3b30', '#ff9500', '#af52de', '#007aff', '#ffcc00'];

function esc(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

export async function renderImage(image: SampleImage, opts: RenderOptions = {}): Promise<Buffer> {
  const rgb = await imageRgb(image);
  const k = opts.scale ?? Math.max(1, Math.round(384 / Math.max(image.width, image.height)));
  const W = image.width * k,
    H = image.height * k;
  const captionH = opts.caption ? 28 : 0;
  const rect = (b: Box, color: string, dash = '') =>
    `<rect x="${b.x1 * k}" y="${b.y1 * k + captionH}" width="${(b.x2 - b.x1) * k}" height="${(b.y2 - b.y1) * k}" ` +
    `fill="none" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
  const parts: string[] = [];
  if (opts.caption) {
    parts.push(`<rect x="0" y="0" width="${W}" height="${captionH}" fill="#ffffff"/>`);
    parts.push(`<text x="6" y="19" font-family="DejaVu Sans" font-size="14" fill="#111">${esc(opts.caption)}</text>`);
  }
  for (const r of opts.regions ?? []) {
    const d = r.polygons
      .flatMap((poly) => poly.map((ring) => `M${ring.map(([x, y]) => `${x * k},${y * k + captionH}`).join('L')}Z`))
      .join('');
    if (d)
      parts.push(
        `<path d="${d}" fill="${r.color}" fill-opacity="0.3" fill-rule="evenodd" stroke="${r.color}" ` +
          `stroke-width="1.5"/>`,
      );
  }
  for (const g of opts.gt ?? []) parts.push(rect(g, '#34c759'));
  (opts.boxes ?? []).forEach((d, i) => {
    const color = d.color ?? PALETTE[i % PALETTE.length];
    parts.push(rect(d.box, color, '6,3'));
    if (d.label)
      parts.push(
        `<text x="${d.box.x1 * k + 2}" y="${d.box.y1 * k + captionH - 3}" font-family="DejaVu Sans" font-size="11" ` +
          `fill="${color}">${esc(d.label)}</text>`,
      );
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H + captionH}">${parts.join('')}</svg>`;
  const base = await sharp(rgb, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(W, H, { kernel: 'nearest' })
    .extend({ top: captionH, bottom: 0, left: 0, right: 0, background: '#ffffff' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return sharp(base.data, { raw: { width: base.info.width, height: base.info.height, channels: base.info.channels } })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png({ compressionLevel: 9, adaptiveFiltering: false })
    .toBuffer();
}

/** A grounding sample with its GT and optional predictions, captioned with its query. */
export async function renderSample(
  sample: { image: SampleImage; query: string; gt?: Box; boxes?: Box[] },
  opts: Omit<RenderOptions, 'gt' | 'caption'> & { caption?: string } = {},
): Promise<Buffer> {
  const gt = sample.gt ? [sample.gt] : (sample.boxes ?? []);
  return renderImage(sample.image, { ...opts, gt, caption: opts.caption ?? sample.query });
}

/** Several PNGs side by side (same height), for a figure strip. */
export async function hstack(pngs: Buffer[], gap = 8): Promise<Buffer> {
  const metas = await Promise.all(pngs.map((p) => sharp(p).metadata()));
  const H = Math.max(...metas.map((m) => m.height!));
  const W = metas.reduce((s, m) => s + m.width!, 0) + gap * (pngs.length - 1);
  let x = 0;
  const layers = pngs.map((p, i) => {
    const l = { input: p, top: 0, left: x };
    x += metas[i].width! + gap;
    return l;
  });
  return sharp({ create: { width: W, height: H, channels: 3, background: '#ffffff' } })
    .composite(layers)
    .png({ compressionLevel: 9, adaptiveFiltering: false })
    .toBuffer();
}
