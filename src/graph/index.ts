/** The graph: data model declaration, converters, relationships, validation, buildGraph and docs. */
export * from './data-model';
export * from './types';
export {
  UnconvertibleRecordError,
  adminPanelUrl,
  convertAccount,
  convertAdmin,
  convertGroup,
  convertIntegration,
  convertPhone,
  convertToken,
  convertU2fToken,
  convertUser,
  convertWebAuthnCredential,
  graphInstanceContext,
  normalisePlatform,
  type GraphInstanceContext,
  type StagedAccountRecord,
} from './converters';
export { directRelationship, employeeMapping, mappedRelationshipKey } from './relationships';
export {
  graphObjectSchemaError,
  isValidEmail,
  relationshipError,
  validateEntity,
  type EntityValidation,
} from './validation';
export { computePartialTypes, type FetchOutcomeLike, type PartialType } from './partial-datasets';
export {
  MAX_DROPPED_EXAMPLES,
  PROGRESS_INTERVAL,
  buildGraph,
  type BuildGraphOptions,
  type BuildGraphProgress,
  type BuildGraphSummary,
  type DroppedObject,
  type SkippedRelationships,
} from './build-graph';
export {
  DOCUMENTATION_MARKER_END,
  DOCUMENTATION_MARKER_START,
  renderDataModelSection,
  updateDocumentationFile,
  withDataModelSection,
  type DocumentationUpdate,
} from './documentation';
