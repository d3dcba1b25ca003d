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
} as const;
