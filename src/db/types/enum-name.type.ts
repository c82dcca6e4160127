import { Type, type EntityProperty, type Platform } from '@mikro-orm/core';

/**
 * A status column stored as the original service stored it — its Python enum member's NAME, upper case
 * (`FAILED`) — and shown in code and on the wire lower case (`failed`), as the original's API showed it.
 * Reports and robots that query the tables directly (`WHERE status = 'FAILED'`) count the same rows as
 * before. The one place the two spellings meet: queries through the ORM (find, QueryBuilder conditions)
 * convert their values here; raw SQL must write the stored spelling (`'FAILED'`).
 */
export class EnumNameType<T extends string> extends Type<T, string> {
  override convertToDatabaseValue(value: T): string {
    return typeof value === 'string' ? value.toUpperCase() : value;
  }

  override convertToJSValue(value: string): T {
    return (typeof value === 'string' ? value.toLowerCase() : value) as T;
  }

  override compareAsType(): string {
    return 'string';
  }

  /** The column of a plain string property on this platform (nvarchar on SQL Server, varchar elsewhere). */
  override getColumnType(prop: EntityProperty, platform: Platform): string {
    return platform.getMappedType('string').getColumnType(prop, platform);
  }
}
