// Types of scripts/build.js (plain JavaScript: it runs before anything is compiled).
export declare const defaultRoot: string;
export declare function fingerprint(root?: string): string;
export declare function staleReason(root?: string): string | null;
export declare function build(root?: string, log?: (message: string) => void): void;
export declare function ensureBuilt(root?: string, log?: (message: string) => void): boolean;
