// Test helpers for Retriever implementations (`@promax/retrieval/test`): the shared
// conformance cases and a float64 brute-force retriever that records its calls.

export type { RecordedSearch } from './reference-retriever.js';
export { createReferenceRetriever, ReferenceRetriever, referenceTopK } from './reference-retriever.js';
export type { ConformanceCase, RetrieverConformanceOptions } from './retriever-conformance.js';
export { describeRetriever, retrieverConformanceCases } from './retriever-conformance.js';
