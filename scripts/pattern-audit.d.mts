import type { check, checkSync, Diagnostics } from "recheck";

export declare const MAX_DEGREE: number;
export declare const RECHECK_PARAMS: Readonly<{ randomSeed: number; timeout: number; maxAttackStringSize: number }>;
export declare function splitPattern(text: string): { source: string; flags: string };
export declare function rulePatterns(rules: unknown): Array<{ path: string; pattern: string }>;
export declare function verdict(diagnostics: Diagnostics): string | undefined;
export declare function auditPattern(
  check: typeof checkSync | typeof check,
  pattern: string,
): Promise<{ pattern: string; diagnostics?: Diagnostics; problem: string | undefined }>;
