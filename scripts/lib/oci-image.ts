import { createHash, randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'

/** An OCI image layout built for a test or benchmark: its manifest and every blob's digest and size. */
export interface TestImage {
  dir: string
  tag: string
  manifestDigest: string
  manifestSize: number
  configDigest: string
  layers: Array<{ digest: string, size: number }>
  /** Bytes of every blob (layers + config), the image's size. */
  size: number
}

function sha256 (bytes: Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex')
}

async function putBlob (dir: string, bytes: Uint8Array): Promise<string> {
  const digest = sha256(bytes)
  await writeFile(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)), bytes)
  return digest
}

/** A one-file tar archive (ustar, as `tar` writes it) of `data`: a real layer containerd can unpack. */
function tarOf (name: string, data: Uint8Array): Buffer {
  const header = Buffer.alloc(512)
  header.write(name, 0, 'utf8')
  header.write('0000644\0', 100)
  header.write('0000000\0', 108)
  header.write('0000000\0', 116)
  header.write(data.length.toString(8).padStart(11, '0') + '\0', 124)
  header.write(Math.floor(Date.now() / 1000).toString(8).padStart(11, '0') + '\0', 136)
  header.write('        ', 148)
  header.write('0', 156)
  header.write('ustar\0', 257)
  header.write('00', 263)
  let sum = 0
  for (const b of header) sum += b
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148)
  const pad = (512 - (data.length % 512)) % 512
  return Buffer.concat([header, data, Buffer.alloc(pad), Buffer.alloc(1024)])
}

/** Builds an OCI image layout in `dir`: one gzipped tar layer of random bytes per size. */
export async function buildTestImage (dir: string, layerSizes: number[], tag = 'v1'): Promise<TestImage> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true })
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
  const layers: Array<{ digest: string, size: number }> = []
  const diffIds: string[] = []
  for (const [i, size] of layerSizes.entries()) {
    // gzip, as registries hold layers: skopeo compresses an uncompressed layer on push, changing its digest
    const tar = tarOf(`layer-${i}.bin`, randomBytes(size))
    const gz = gzipSync(tar, { level: 1 })
    diffIds.push(sha256(tar))
    layers.push({ digest: await putBlob(dir, gz), size: gz.length })
  }
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: diffIds }
  }))
  const configDigest = await putBlob(dir, config)
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: layers.map(l => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size }))
  }))
  const manifestDigest = await putBlob(dir, manifest)
  await writeFile(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: OCI_MANIFEST, digest: manifestDigest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } }]
  }))
  return { dir, tag, manifestDigest, manifestSize: manifest.length, configDigest, layers, size: config.length + layers.reduce((s, l) => s + l.size, 0) }
}

