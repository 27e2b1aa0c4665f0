/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "query Me {\n  me {\n    id\n    fullName\n    role\n    doctor {\n      id\n      fullName\n      specialty\n    }\n    patient {\n      id\n      fullName\n    }\n  }\n}\n\nfragment ConsultationCard on Consultation {\n  id\n  status\n  roomId\n  startedAt\n  endedAt\n  durationSeconds\n  connectedSeconds\n  appointment {\n    id\n    scheduledAt\n    durationMinutes\n    status\n    reason\n  }\n  doctor {\n    id\n    fullName\n    specialty\n  }\n  patient {\n    id\n    fullName\n  }\n  participants {\n    userId\n    role\n    fullName\n    online\n    peerId\n    joinedAt\n    leftAt\n  }\n}\n\nquery Consultation($id: ID!) {\n  consultation(id: $id) {\n    ...ConsultationCard\n    prescriptions {\n      id\n      createdAt\n      diagnosis\n      notes\n      medications {\n        name\n        dosage\n        frequency\n        durationDays\n        instructions\n      }\n      doctor {\n        id\n      }\n      patient {\n        id\n      }\n      consultation {\n        id\n      }\n    }\n    events(first: 10) {\n      edges {\n        cursor\n        node {\n          id\n          type\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}\n\nquery Consultations($filter: ConsultationFilter, $first: Int, $after: String) {\n  consultations(filter: $filter, first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        ...ConsultationCard\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nquery AppointmentConsultation($id: ID!) {\n  consultation(id: $id) {\n    id\n    appointment {\n      id\n      consultation {\n        id\n        status\n      }\n    }\n  }\n}": typeof types.MeDocument,
};
const documents: Documents = {
    "query Me {\n  me {\n    id\n    fullName\n    role\n    doctor {\n      id\n      fullName\n      specialty\n    }\n    patient {\n      id\n      fullName\n    }\n  }\n}\n\nfragment ConsultationCard on Consultation {\n  id\n  status\n  roomId\n  startedAt\n  endedAt\n  durationSeconds\n  connectedSeconds\n  appointment {\n    id\n    scheduledAt\n    durationMinutes\n    status\n    reason\n  }\n  doctor {\n    id\n    fullName\n    specialty\n  }\n  patient {\n    id\n    fullName\n  }\n  participants {\n    userId\n    role\n    fullName\n    online\n    peerId\n    joinedAt\n    leftAt\n  }\n}\n\nquery Consultation($id: ID!) {\n  consultation(id: $id) {\n    ...ConsultationCard\n    prescriptions {\n      id\n      createdAt\n      diagnosis\n      notes\n      medications {\n        name\n        dosage\n        frequency\n        durationDays\n        instructions\n      }\n      doctor {\n        id\n      }\n      patient {\n        id\n      }\n      consultation {\n        id\n      }\n    }\n    events(first: 10) {\n      edges {\n        cursor\n        node {\n          id\n          type\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}\n\nquery Consultations($filter: ConsultationFilter, $first: Int, $after: String) {\n  consultations(filter: $filter, first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        ...ConsultationCard\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nquery AppointmentConsultation($id: ID!) {\n  consultation(id: $id) {\n    id\n    appointment {\n      id\n      consultation {\n        id\n        status\n      }\n    }\n  }\n}": types.MeDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Me {\n  me {\n    id\n    fullName\n    role\n    doctor {\n      id\n      fullName\n      specialty\n    }\n    patient {\n      id\n      fullName\n    }\n  }\n}\n\nfragment ConsultationCard on Consultation {\n  id\n  status\n  roomId\n  startedAt\n  endedAt\n  durationSeconds\n  connectedSeconds\n  appointment {\n    id\n    scheduledAt\n    durationMinutes\n    status\n    reason\n  }\n  doctor {\n    id\n    fullName\n    specialty\n  }\n  patient {\n    id\n    fullName\n  }\n  participants {\n    userId\n    role\n    fullName\n    online\n    peerId\n    joinedAt\n    leftAt\n  }\n}\n\nquery Consultation($id: ID!) {\n  consultation(id: $id) {\n    ...ConsultationCard\n    prescriptions {\n      id\n      createdAt\n      diagnosis\n      notes\n      medications {\n        name\n        dosage\n        frequency\n        durationDays\n        instructions\n      }\n      doctor {\n        id\n      }\n      patient {\n        id\n      }\n      consultation {\n        id\n      }\n    }\n    events(first: 10) {\n      edges {\n        cursor\n        node {\n          id\n          type\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}\n\nquery Consultations($filter: ConsultationFilter, $first: Int, $after: String) {\n  consultations(filter: $filter, first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        ...ConsultationCard\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nquery AppointmentConsultation($id: ID!) {\n  consultation(id: $id) {\n    id\n    appointment {\n      id\n      consultation {\n        id\n        status\n      }\n    }\n  }\n}"): (typeof documents)["query Me {\n  me {\n    id\n    fullName\n    role\n    doctor {\n      id\n      fullName\n      specialty\n    }\n    patient {\n      id\n      fullName\n    }\n  }\n}\n\nfragment ConsultationCard on Consultation {\n  id\n  status\n  roomId\n  startedAt\n  endedAt\n  durationSeconds\n  connectedSeconds\n  appointment {\n    id\n    scheduledAt\n    durationMinutes\n    status\n    reason\n  }\n  doctor {\n    id\n    fullName\n    specialty\n  }\n  patient {\n    id\n    fullName\n  }\n  participants {\n    userId\n    role\n    fullName\n    online\n    peerId\n    joinedAt\n    leftAt\n  }\n}\n\nquery Consultation($id: ID!) {\n  consultation(id: $id) {\n    ...ConsultationCard\n    prescriptions {\n      id\n      createdAt\n      diagnosis\n      notes\n      medications {\n        name\n        dosage\n        frequency\n        durationDays\n        instructions\n      }\n      doctor {\n        id\n      }\n      patient {\n        id\n      }\n      consultation {\n        id\n      }\n    }\n    events(first: 10) {\n      edges {\n        cursor\n        node {\n          id\n          type\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n}\n\nquery Consultations($filter: ConsultationFilter, $first: Int, $after: String) {\n  consultations(filter: $filter, first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        ...ConsultationCard\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nquery AppointmentConsultation($id: ID!) {\n  consultation(id: $id) {\n    id\n    appointment {\n      id\n      consultation {\n        id\n        status\n      }\n    }\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;