/** Public surface of the agent's model store. */
export { BUILTIN_MODEL_ID, builtinModelPath, type CacheEnv, defaultCacheDir, ensureBuiltinModel } from "./builtin.ts";
export { BUILTIN_SHAPE, buildBuiltinModel } from "./builtin-model.ts";
export { ModelError, type ModelErrorCode } from "./errors.ts";
export { type GgufFileHeader, readGgufHeaderFile } from "./gguf-file.ts";
export { type ResolvedModel, resolveModel } from "./resolve-model.ts";
