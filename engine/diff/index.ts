/**
 * engine/diff: normalize + three-way diff (pure).
 *
 * API:
 *   diff(desired?: KubeObject, live?: KubeObject, opts?: DiffOptions): DiffResult
 *     opts {manager = "argocd-controller", ignoreDifferences?, keepTrackingAnnotation?}
 *     -> {modified, normalizedDesired, normalizedLive, predictedLive, changes[{path, old, new}], patch (JSON Patch), text}
 *   normalize(obj, {ignoreDifferences?, managedFieldsFrom?, keepTrackingAnnotation?}): KubeObject
 *   compileJq(expr, where)  validates a jqPathExpression (GtbError GTB_DIFF_UNSUPPORTED_JQ)
 *   ownedFields(obj, managers), fieldsOf(obj), parseQuantity(v), unifiedDiff(a, b, la, lb), resourceTitle(obj)
 *   constants: DEFAULT_FIELD_MANAGER, TRACKING_ANNOTATION, LAST_APPLIED_ANNOTATION
 *   types: IgnoreDifference, DiffOptions, DiffResult, DiffChange, PatchOp, FieldSet
 * Errors: GtbError GTB_DIFF_UNSUPPORTED_JQ | GTB_DIFF_BAD_JSON_POINTER | GTB_DIFF_BAD_LAST_APPLIED.
 */
export {
  DEFAULT_FIELD_MANAGER,
  type DiffChange,
  type DiffOptions,
  type DiffResult,
  diff,
  resourceTitle,
} from "./diff.ts";
export { parseQuantity, scalarsEquivalent } from "./equivalence.ts";
export { type FieldSet, fieldsOf, ownedFields } from "./fieldset.ts";
export { compileJq, type IgnoreDifference, ruleMatches } from "./ignore.ts";
export { deepEqual, type PatchOp } from "./json.ts";
export {
  LAST_APPLIED_ANNOTATION,
  type NormalizeOptions,
  normalize,
  TRACKING_ANNOTATION,
} from "./normalize.ts";
export { unifiedDiff } from "./text.ts";
