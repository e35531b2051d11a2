/**
 * A small Dockerfile reader and the hadolint-style rules Tramline's Dockerfile must pass. There is
 * no Docker engine (nor hadolint) on the machines this project is built on, so the rules that matter
 * for a production image are checked here, on the parsed instructions.
 */
export interface Instruction {
  readonly line: number;
  readonly keyword: string;
  readonly args: string;
}

export interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

export function parseDockerfile(text: string): { globalArgs: Map<string, string>; stages: Stage[] } {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i]!;
    if (/^\s*(#|$)/.test(first)) continue;
    const start = i + 1;
    let joined = first;
    while (/\\\s*$/.test(joined) && i + 1 < lines.length) {
      joined = joined.replace(/\\\s*$/, ' ');
      i++;
      if (/^\s*#/.test(lines[i]!)) continue; // comments inside a continuation are dropped by Docker
      joined += lines[i]!;
    }
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(joined);
    if (!m) throw new Error(`line ${start}: cannot parse ${JSON.stringify(joined)}`);
    instructions.push({ line: start, keyword: m[1]!.toUpperCase(), args: m[2]!.trim().replace(/\s+/g, ' ') });
  }
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`line ${ins.line}: bad FROM`);
      const from = m[1]!.replace(
        /\$\{(\w+)\}|\$(\w+)/g,
        (_, a: string | undefined, b: string | undefined) => globalArgs.get((a ?? b)!) ?? '',
      );
      stages.push({ from, name: m[2], instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') throw new Error(`line ${ins.line}: only ARG may come before FROM`);
      const [name, value] = ins.args.split('=', 2);
      globalArgs.set(name!, value ?? '');
    } else {
      stages.at(-1)!.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

const isJsonArray = (s: string): boolean => {
  try {
    const v: unknown = JSON.parse(s);
    return Array.isArray(v) && v.every((x) => typeof x === 'string');
  } catch {
    return false;
  }
};

/** Returns the rule violations (empty when the Dockerfile passes), each naming its rule and line. */
export function lintDockerfile(text: string): string[] {
  const problems: string[] = [];
  const { stages } = parseDockerfile(text);
  const names = new Set(stages.map((s) => s.name).filter(Boolean));
  if (stages.length < 2) problems.push('multi-stage: a build stage and a runtime stage are expected');
  for (const s of stages) {
    if (names.has(s.from)) continue; // FROM an earlier stage
    // DL3006 / DL3007: a base image is pinned to a full version (or a digest), never latest or a bare major.
    const digest = /@sha256:[0-9a-f]{64}$/.test(s.from);
    const tag = /^[^@]+:([^@/]+)(@.*)?$/.exec(s.from)?.[1];
    if (!digest && (!tag || tag === 'latest' || !/\d+\.\d+\.\d+/.test(tag)))
      problems.push(`DL3006/DL3007: base image not pinned to a full version: ${s.from || '(empty)'}`);
  }
  for (const s of stages) {
    for (const ins of s.instructions) {
      const at = `line ${ins.line}`;
      if (ins.keyword === 'ADD')
        problems.push(`DL3020: ${at}: use COPY, not ADD${/https?:\/\//.test(ins.args) ? ' (never ADD a URL)' : ''}`);
      if (ins.keyword === 'MAINTAINER') problems.push(`DL4000: ${at}: MAINTAINER is deprecated`);
      if (ins.keyword === 'WORKDIR' && !ins.args.startsWith('/')) problems.push(`DL3000: ${at}: WORKDIR must be absolute`);
      if (ins.keyword === 'RUN') {
        if (/\bsudo\b/.test(ins.args)) problems.push(`DL3004: ${at}: no sudo`);
        if (/apt-get\s+(dist-)?upgrade/.test(ins.args)) problems.push(`DL3005: ${at}: no apt-get upgrade`);
        if (/\b(curl|wget)\b[^|]*\|\s*(ba)?sh/.test(ins.args)) problems.push(`DL4006: ${at}: no piping a download into a shell`);
        if (/\bnpm\s+(install|i)\b/.test(ins.args)) problems.push(`DL3016: ${at}: npm ci (the lockfile), not npm install`);
        if (/\bcd\s+\S/.test(ins.args)) problems.push(`DL3003: ${at}: use WORKDIR, not cd`);
        if (/apt-get\s+install/.test(ins.args) && !/--no-install-recommends/.test(ins.args))
          problems.push(`DL3015: ${at}: apt-get install --no-install-recommends`);
      }
      if (ins.keyword === 'ENV' || ins.keyword === 'ARG') {
        for (const m of ins.args.matchAll(/(\w*(?:KEY|TOKEN|PASSWORD|SECRET|DSN)\w*)=(\S+)/gi))
          problems.push(`secret: ${at}: ${m[1]} has a value in the image`);
      }
      if (ins.keyword === 'COPY' && /--from=/.test(ins.args) === false && /\s\.\s*$/.test(ins.args) && s === stages.at(-1)) {
        problems.push(`runtime: ${at}: the runtime stage copies the whole context`);
      }
    }
  }
  const runtime = stages.at(-1);
  if (runtime) {
    const last = (k: string) => runtime.instructions.filter((i) => i.keyword === k).at(-1);
    const user = last('USER');
    if (!user) problems.push('DL3002: the runtime stage sets no USER (it would run as root)');
    else {
      const uid = user.args.split(':')[0]!;
      if (!/^\d+$/.test(uid)) problems.push(`USER: a numeric uid is expected (runAsNonRoot checks it): ${user.args}`);
      else if (Number(uid) === 0) problems.push('DL3002: the runtime stage runs as root');
      else if (Number(uid) < 10000) problems.push(`USER: uid ${uid} may collide with a host user; use 10000 or more`);
    }
    const hc = last('HEALTHCHECK');
    if (!hc) problems.push('HEALTHCHECK missing in the runtime stage');
    else if (!/CMD\s+\[/.test(hc.args) && !/^NONE$/i.test(hc.args))
      problems.push('HEALTHCHECK: use the exec form (no shell in the image is needed)');
    const stop = last('STOPSIGNAL');
    if (!stop || stop.args !== 'SIGTERM') problems.push('STOPSIGNAL SIGTERM missing (the gateway drains on SIGTERM)');
    for (const k of ['ENTRYPOINT', 'CMD']) {
      const i = last(k);
      if (!i) problems.push(`${k} missing`);
      else if (!isJsonArray(i.args)) problems.push(`DL3025: ${k} must use the JSON (exec) form so signals reach node`);
    }
    const labels = runtime.instructions
      .filter((i) => i.keyword === 'LABEL')
      .map((i) => i.args)
      .join(' ');
    for (const l of ['title', 'description', 'version', 'revision', 'created', 'source', 'licenses']) {
      if (!labels.includes(`org.opencontainers.image.${l}=`)) problems.push(`OCI label org.opencontainers.image.${l} missing`);
    }
  }
  return problems;
}
