/**
 * Patch semantics of the embedded API server: strategic merge patch,
 * server-side apply with managedFields, and field ownership of updates.
 */
export { PatchError, strategicMergePatch } from "./smp.ts";
export { isBuiltinKind } from "./schema.ts";
