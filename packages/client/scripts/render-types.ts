import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';

/** The TypeScript of `generated/openapi.d.ts` for a document: what `npm run generate` writes and the drift test compares. */
export async function renderTypes(document: object): Promise<string> {
  // `openapiTS` takes the parsed document; structuredClone since it annotates what it reads.
  const nodes = await openapiTS(structuredClone(document) as Parameters<typeof openapiTS>[0], { alphabetize: true });
  return COMMENT_HEADER + astToString(nodes);
}
