/**
 * Custom fields (Plura): `params.customFields: [{ field, customFieldEnabled }]` says that `params[field]` holds a KEY
 * of `callData.fields`, and the param takes that field's value (any JSON type) before the action runs.
 * `customFields` itself is removed from the result; disabled entries leave their param as it is.
 */

export class CustomFieldError extends Error {
  readonly code = "CUSTOM_FIELD_ERROR";
  constructor(
    message: string,
    /** The param named by the custom field entry. */
    readonly field: string,
    /** The callData.fields key it points to, when known. */
    readonly key?: string,
  ) {
    super(message);
    this.name = "CustomFieldError";
  }
}

const hasOwn = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Resolves enabled custom fields from `callData.fields`; throws CustomFieldError naming the param and key. */
export function resolveCustomFields(
  params: Record<string, unknown>,
  callData: { fields?: Record<string, unknown> } | undefined,
): Record<string, unknown> {
  if (!hasOwn(params, "customFields")) return params;
  const entries = params.customFields;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(params)) {
    if (key === "customFields") continue;
    Object.defineProperty(out, key, { value: params[key], enumerable: true, writable: true, configurable: true });
  }
  if (entries === undefined || entries === null) return out;
  if (!Array.isArray(entries))
    throw new CustomFieldError("params.customFields must be a list of {field, customFieldEnabled}", "customFields");
  const fields = callData?.fields;
  entries.forEach((entry, i) => {
    if (!isObject(entry) || typeof entry.field !== "string" || entry.field === "") {
      throw new CustomFieldError(
        `params.customFields[${i}] must be {field: string, customFieldEnabled: boolean}`,
        `customFields.${i}`,
      );
    }
    if (entry.customFieldEnabled !== undefined && typeof entry.customFieldEnabled !== "boolean") {
      throw new CustomFieldError(`params.customFields[${i}].customFieldEnabled must be true or false`, entry.field);
    }
    if (entry.customFieldEnabled !== true) return;
    const param = entry.field;
    if (!hasOwn(out, param)) {
      throw new CustomFieldError(
        `Custom field "${param}" is enabled but params.${param} is not set (it must hold a callData.fields key)`,
        param,
      );
    }
    const key = out[param];
    if (typeof key !== "string" || key === "") {
      throw new CustomFieldError(`Custom field "${param}": params.${param} must be the name of a callData.fields key`, param);
    }
    if (!isObject(fields) || !hasOwn(fields, key)) {
      throw new CustomFieldError(`Custom field "${param}" refers to "${key}", which is missing from callData.fields`, param, key);
    }
    Object.defineProperty(out, param, { value: fields[key], enumerable: true, writable: true, configurable: true });
  });
  return out;
}
