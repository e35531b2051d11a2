import SwaggerParser from '@apidevtools/swagger-parser';
import { BaseResolver, createConfig, lintDocument, makeDocumentFromString } from '@redocly/openapi-core';

export interface Finding {
  validator: string;
  where: string;
  message: string;
}

/** @apidevtools/swagger-parser: the OpenAPI 3.1 meta-schema, then its own checks ($refs, duplicate parameters, path params). */
export async function swaggerParserFindings(doc: unknown): Promise<Finding[]> {
  try {
    // validate() dereferences in place: give it a copy.
    await SwaggerParser.validate(structuredClone(doc) as never);
    return [];
  } catch (err) {
    const e = err as Error & { details?: { instancePath?: string; message?: string }[] };
    if (Array.isArray(e.details) && e.details.length > 0) {
      return e.details.map((d) => ({ validator: 'swagger-parser', where: d.instancePath ?? '', message: d.message ?? String(d) }));
    }
    return [{ validator: 'swagger-parser', where: '', message: e.message }];
  }
}

/** Redocly's `recommended` ruleset: problems of severity error (warnings are returned apart). */
export async function redoclyFindings(doc: unknown): Promise<{ errors: Finding[]; warnings: Finding[] }> {
  const config = await createConfig({ extends: ['recommended'] });
  const problems = await lintDocument({
    document: makeDocumentFromString(JSON.stringify(doc), '/openapi.json'),
    config,
    externalRefResolver: new BaseResolver(),
  });
  const toFinding = (p: (typeof problems)[number]): Finding => ({
    validator: `redocly:${p.ruleId}`,
    where: p.location[0]?.pointer ?? '',
    message: p.message,
  });
  return {
    errors: problems.filter((p) => p.severity === 'error').map(toFinding),
    warnings: problems.filter((p) => p.severity === 'warn').map(toFinding),
  };
}
