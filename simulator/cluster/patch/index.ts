/**
 * Patch semantics of the embedded API server: strategic merge patch,
 * server-side apply with managedFields, and field ownership of updates.
 */
export { PatchError, strategicMergePatch } from "./smp.ts";
export {
  type ApplyConflict,
  type ApplyResult,
  applyConflictStatus,
  fieldsV1Paths,
  ownedFieldsOf,
  recordUpdate,
  serverSideApply,
} from "./managed.ts";
export type { FieldsV1 } from "./fields.ts";
export { isBuiltinKind } from "./schema.ts";
