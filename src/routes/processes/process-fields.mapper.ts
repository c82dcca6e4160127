import type { Schemas } from '../../contract.ts';
import { RUN_STATUSES } from '../../entities/index.ts';
import type { DeclaredMetaField } from '../../db/meta-fields.ts';
import type { ProcessFields, ProcessFilterMetadata } from '../../services/process-fields.service.ts';

type StandardField = Schemas['StandardField'];

const DATE_FILTERS: StandardField['filter_types'] = ['after', 'before'];

/** The run columns every process's runs have, as the original described them (in its order). */
const STANDARD_FIELDS: Readonly<Record<string, StandardField>> = {
  id: { type: 'integer', description: 'Process run ID', sortable: true, filterable: false },
  entity_id: {
    type: 'string',
    description: 'Entity identifier (e.g., CPR, case number)',
    sortable: true,
    filterable: true,
  },
  entity_name: {
    type: 'string',
    description: 'Entity name (e.g., person name)',
    sortable: true,
    filterable: true,
  },
  status: {
    type: 'enum',
    description: 'Process run status',
    values: [...RUN_STATUSES],
    sortable: true,
    filterable: true,
  },
  started_at: {
    type: 'datetime',
    description: 'When the process run started',
    sortable: true,
    filterable: true,
    filter_types: DATE_FILTERS,
  },
  finished_at: {
    type: 'datetime',
    description: 'When the process run finished',
    sortable: true,
    filterable: true,
    filter_types: DATE_FILTERS,
  },
  created_at: {
    type: 'datetime',
    description: 'When the record was created',
    sortable: true,
    filterable: true,
    filter_types: DATE_FILTERS,
  },
  updated_at: {
    type: 'datetime',
    description: 'When the record was last updated',
    sortable: true,
    filterable: false,
  },
};

const FILTERING_HELP: Schemas['FilteringHelp'] = {
  metadata: "Use meta_filter parameter with format 'field:value'",
  dates: 'Use ISO format for date filters (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)',
  partial_match: 'entity_name supports partial matching',
};

function toMetadataField({ name, type }: DeclaredMetaField): Schemas['MetadataField'] {
  return {
    type,
    description: `Metadata field: ${name}`,
    sortable: true,
    filterable: true,
    sortable_as: `meta.${name}`,
    filter_format: 'meta_filter parameter: field:value',
  };
}

/** What both shapes share: the field definitions (copies of the constants), the name lists and counts. */
function fieldsOf({ process, metaFields }: ProcessFields) {
  const standard = Object.entries(STANDARD_FIELDS);
  const metaNames = metaFields.map((field) => `meta.${field.name}`);
  return {
    process_id: process.id,
    process_name: process.name,
    standard_fields: structuredClone(STANDARD_FIELDS) as Record<string, StandardField>,
    metadata_fields: Object.fromEntries(metaFields.map((field) => [field.name, toMetadataField(field)])),
    all_sortable_fields: [
      ...standard.filter(([, field]) => field.sortable).map(([name]) => name),
      ...metaNames,
    ],
    all_filterable_fields: [
      ...standard.filter(([, field]) => field.filterable).map(([name]) => name),
      ...metaNames,
    ],
    field_count: {
      standard: standard.length,
      metadata: metaFields.length,
      total: standard.length + metaFields.length,
    },
    filtering_help: { ...FILTERING_HELP },
  };
}

/** The seed's searchable-fields shape: field groups at the top level. */
export function toSearchableFields(fields: ProcessFields): Schemas['SearchableFields'] {
  return fieldsOf(fields);
}

/** The original's filter-metadata shape: field groups under `searchable_fields`, plus distinct values. */
export function toFilterMetadata(metadata: ProcessFilterMetadata): Schemas['FilterMetadata'] {
  const { standard_fields, metadata_fields, ...rest } = fieldsOf(metadata);
  return {
    process_id: rest.process_id,
    process_name: rest.process_name,
    searchable_fields: { standard_fields, metadata_fields },
    metadata_filters: Object.fromEntries(metadata.values),
    all_sortable_fields: rest.all_sortable_fields,
    all_filterable_fields: rest.all_filterable_fields,
    field_count: rest.field_count,
    filtering_help: rest.filtering_help,
  };
}
