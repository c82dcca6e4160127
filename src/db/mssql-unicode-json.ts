/**
 * SQL Server: keep JSON values Unicode-safe.
 *
 * MikroORM 7 inlines query parameters into the SQL text. On SQL Server a string literal without the `N`
 * prefix is a varchar literal in the database code page, so characters outside it (emoji, most non-Latin
 * text) would be stored as `?` even though the JSON columns are nvarchar(max). MikroORM prefixes string
 * properties (its UnicodeStringType), but not JSON properties (JsonType produces a plain string).
 *
 * `UnicodeJsonType` is a JsonType whose database value is wrapped in MikroORM's `UnicodeString` on SQL
 * Server only, which the SQL Server platform renders as `N'...'`. `useUnicodeJsonOnMssql` installs it on
 * every JSON property during metadata discovery (orm-config.ts does that for mssql URLs), so entities keep
 * using the portable `p.json()`.
 */
import { JsonType, type EntityMetadata, type Platform, type TransformContext } from '@mikro-orm/core';
import { MsSqlPlatform, UnicodeString } from '@mikro-orm/mssql';
import { isJsonProperty } from './json-properties.ts';

export class UnicodeJsonType extends JsonType {
  override convertToDatabaseValue(
    value: unknown,
    platform: Platform,
    context?: TransformContext,
  ): string | null {
    const json = super.convertToDatabaseValue(value, platform, context) as string | null | undefined;
    if (typeof json === 'string' && platform instanceof MsSqlPlatform) {
      // The UnicodeString is rendered as N'...' by the SQL Server platform; typed as string for MikroORM.
      return new UnicodeString(json) as unknown as string;
    }
    return json ?? null;
  }
}

/** `discovery.onMetadata` hook: JSON properties (declared with `p.json()`) use `UnicodeJsonType`. */
export function useUnicodeJsonOnMssql(meta: EntityMetadata): void {
  for (const prop of Object.values(meta.properties)) {
    if (isJsonProperty(prop)) {
      prop.customType = new UnicodeJsonType();
      prop.type = 'json';
    }
  }
}
