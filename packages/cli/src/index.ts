// Public entry of @gbc/cli: the `gbc` command as a function, its errors and
// exit codes, the configuration loading it uses, and the submit flow (until a
// library package takes it over).
export { main, type MainOptions } from './main.js';
export { CliError, ExitCode } from './errors.js';
export { reportError, type ErrorReport } from './report-error.js';
export {
  findConfigFile,
  loadConfigFile,
  DEFAULT_CONFIG_FILES,
  type ConfigObject,
} from './config/load-config-file.js';
export { envNameOf, layeredOptions, type ConfigLayers } from './config/layered-options.js';
export {
  submitDerivations,
  scanStoreReferences,
  type SubmitOptions,
  type SubmitProgress,
  type SubmittedBuild,
  type ScanOptions,
} from './submit/index.js';
