// Versions the end-to-end suite pins where the program does not name one. Garage, the Hive
// Metastore, PostgreSQL, busybox and the JDBC driver come from the program's own config (its
// images and the driver URL), so they follow the stack.

export const PINS = {
    /** Trino: the appVersion of chart trino 1.42.2 (the chart's image tag when the values set none). */
    trino: "480",
    /** dbt as a Dagster code location would run it against Trino. */
    dbtCore: "1.10.23",
    dbtTrino: "1.10.6",
    /** Clients the checks use: Trino's Python client, and boto3 (the AWS SDK, signing as Airbyte's does). */
    trinoClient: "0.336.0",
    boto3: "1.44.5",
    /**
     * dbt beside Dagster: the code location's dbt. dagster-dbt 0.25.4 (Dagster 1.9.4's) requires
     * dbt-core < 1.9, so the newest 1.8 releases, not the suite's own dbt above.
     */
    dagsterDbtCore: "1.8.10",
    dagsterDbtTrino: "1.8.5",
    /**
     * SQLAlchemy as it was when Dagster 1.9.4 was released: 2.1 (2026) made psycopg 3 the default
     * PostgreSQL driver, which dagster-postgres does not install (it brings psycopg2), so the newest
     * 2.0 release, as the chart's images have it.
     */
    dagsterSqlalchemy: "2.0.58",
} as const;

/**
 * The integration libraries' version for a Dagster core version: Dagster releases them together,
 * numbered 0.(minor + 16).patch against core 1.minor.patch (1.9.4 with 0.25.4).
 */
export function dagsterLibraryVersion(core: string): string {
    const m = /^1\.(\d+)\.(\d+)$/.exec(core);
    if (!m) throw new Error(`Dagster ${core}: not a 1.x.y release, no integration library version follows from it`);
    return `0.${Number(m[1]) + 16}.${m[2]}`;
}
