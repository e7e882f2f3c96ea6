export { NIX32_ALPHABET, decodeNix32, encodeNix32, nix32Length } from './nix-base32.js';
