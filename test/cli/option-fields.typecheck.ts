/**
 * Type-level checks of src/cli/option-fields.ts, run by `npm run typecheck` (not by node:test:
 * nothing here runs). Each `@ts-expect-error` line must fail to compile, or the typecheck fails:
 * the option map catches the mistakes it is there for.
 */
import type { AgentConfig } from "../../src/agent/config.js";
import type { NoneLeft, OptionFields, UnfilledFields } from "../../src/cli/option-fields.js";
import type { RawOptions } from "../../src/cli/option-table.js";

/** The real table, the real AgentConfig and the real map: every option has a field, every field an option. */
export type Real = NoneLeft<UnfilledFields<keyof RawOptions, keyof AgentConfig, OptionFields>>;

/** A new row in the table's DEPLOY list, not yet read into AgentConfig: */
// @ts-expect-error the option has no entry in OptionFields
export type NewOption = UnfilledFields<keyof RawOptions | "drainTimeout", keyof AgentConfig, OptionFields>;

/** An entry that names a field AgentConfig does not have (a misspelling, or a field never added): */
// @ts-expect-error minFreeByte is not a field of AgentConfig
export type NoSuchField = UnfilledFields<keyof RawOptions, keyof AgentConfig, Omit<OptionFields, "minFree"> & { minFree: "minFreeByte" }>;

/** A new field of PassOptions (so of AgentConfig) that no option fills: */
// @ts-expect-error drainTimeoutMs is filled by no option
export type NewField = NoneLeft<UnfilledFields<keyof RawOptions, keyof AgentConfig | "drainTimeoutMs", OptionFields>>;

/** An option removed from the map while its field stays: */
// @ts-expect-error keepGenerations is no longer filled (and the option has no entry)
export type Dropped = NoneLeft<UnfilledFields<keyof RawOptions, keyof AgentConfig, Omit<OptionFields, "keepGenerations">>>;
