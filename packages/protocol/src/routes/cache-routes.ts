// Binary-cache routes, as guix publish and Nix binary caches serve them.
import { z } from 'zod';
import { defineRoute } from './route.js';
import { compressionSchema, derivationBaseNameSchema } from '../schemas/common.js';

const NIX32 = '[0-9a-df-np-sv-z]';

/** The binary cache (served on the agent port, optionally on its own). */
export const cacheRoutes = {
  nixCacheInfo: defineRoute({
    id: 'nixCacheInfo',
    method: 'GET',
    path: '/nix-cache-info',
    port: 'cache',
    auth: 'none',
    summary: 'StoreDir, WantMassQuery and Priority',
    response: {
      kind: 'bytes',
      status: 200,
      contentType: 'text/x-nix-cache-info',
      description: 'nix-cache-info text.',
    },
    errors: [],
  }),
  narinfo: defineRoute({
    id: 'narinfo',
    method: 'GET',
    path: '/{hash}.narinfo',
    // Hono cannot put a suffix after a parameter: the parameter takes the suffix, the server strips it.
    honoPath: `/:hash{${NIX32}{32}\\.narinfo}`,
    port: 'cache',
    auth: 'none',
    summary: 'The narinfo of a store path by its hash part (Nix or Guix flavour, signed)',
    params: z.object({
      hash: z.string().regex(new RegExp(`^${NIX32}{32}(\\.narinfo)?$`), 'expected 32 nix-base32 characters'),
    }),
    response: { kind: 'bytes', status: 200, contentType: 'text/x-nix-narinfo', description: 'narinfo text.' },
    errors: ['not-found'],
  }),
  narCompressed: defineRoute({
    id: 'narCompressed',
    method: 'GET',
    path: '/nar/{compression}/{name}',
    port: 'cache',
    auth: 'none',
    summary: 'A NAR in the given compression (guix publish layout nar/<compression>/<basename>)',
    params: z.object({ compression: compressionSchema, name: z.string().min(1).max(300) }),
    response: {
      kind: 'bytes',
      status: 200,
      contentType: 'application/x-nix-nar',
      description: 'The (compressed) NAR.',
    },
    errors: ['not-found'],
  }),
  nar: defineRoute({
    id: 'nar',
    method: 'GET',
    path: '/nar/{name}',
    port: 'cache',
    auth: 'none',
    summary:
      'A NAR by file name: nar/<basename> (uncompressed) or nar/<filehash>.nar[.zst|.lz|.gz] as the narinfo URL says',
    params: z.object({ name: z.string().min(1).max(300) }),
    response: {
      kind: 'bytes',
      status: 200,
      contentType: 'application/x-nix-nar',
      description: 'The (compressed) NAR.',
    },
    errors: ['not-found'],
  }),
  derivationLog: defineRoute({
    id: 'derivationLog',
    method: 'GET',
    path: '/log/{drv}',
    port: 'cache',
    auth: 'none',
    summary: 'The log of the latest successful (else latest) build of a derivation',
    params: z.object({ drv: derivationBaseNameSchema }),
    response: {
      kind: 'bytes',
      status: 200,
      contentType: 'text/plain; charset=utf-8',
      description: 'The build log.',
    },
    errors: ['not-found'],
  }),
} as const;
