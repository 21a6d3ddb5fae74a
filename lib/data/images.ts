/** Image encoding and decoding through sharp (PNG/JPEG, offline). */
import sharp from 'sharp';
import type { SampleImage } from './samples';

/** Encode HWC RGB bytes as PNG, with fixed options so the bytes are reproducible. */
export async function encodePng(rgb: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 9, adaptiveFiltering: false, palette: false })
    .toBuffer();
}

/** Decode an image file to HWC RGB bytes (alpha dropped). Errors name the file. */
export async function decodeImage(path: string): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  try {
    const { data, info } = await sharp(path)
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
    return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (e) {
    throw new Error(`cannot decode image ${path}: ${(e as Error).message}`);
  }
}

/** The RGB bytes of a sample's image, decoding its file (and caching the bytes) when needed. */
export async function imageRgb(image: SampleImage): Promise<Uint8Array> {
  if (image.rgb) return image.rgb;
  if (!image.path) throw new Error('image has neither rgb bytes nor a path');
  const d = await decodeImage(image.path);
  if (d.width !== image.width || d.height !== image.height) {
    throw new Error(
      `image ${image.path} is ${d.width}×${d.height}, but its annotation says ${image.width}×${image.height}`,
    );
  }
  image.rgb = d.rgb;
  return d.rgb;
}
