/** The artifact store a deployment configured. */
import { FilesystemArtifactStore } from './filesystem-store.ts';
import type { S3StoreConfig } from './s3-store.ts';
import type { ArtifactStore } from './store.ts';
import type { ArtifactLimits } from './transfer.ts';

export interface ArtifactConfig {
  /** The filesystem store's root (used when no bucket is configured). */
  dir: string;
  /** An S3-compatible bucket instead. */
  s3?: S3StoreConfig;
  limits: ArtifactLimits;
}

/** The configured store; the S3 client is loaded only when used (it takes a while to load). */
export async function openArtifactStore(config: ArtifactConfig): Promise<ArtifactStore> {
  if (!config.s3) return new FilesystemArtifactStore(config.dir);
  const { S3ArtifactStore } = await import('./s3-store.ts');
  return new S3ArtifactStore(config.s3);
}
