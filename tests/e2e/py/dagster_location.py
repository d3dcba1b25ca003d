"""The suite's Dagster code location: what a user's image would hold. Its assets are the models of
a small dbt project, built by `dbt build` with the profiles.yml the platform mounts (DBT_PROFILES_DIR)
and the target the platform names (DBT_TARGET), against the real Trino. One job materializes them.

The project directory is LAKEHOUSE_E2E_DBT_PROJECT; its manifest was written by `dbt parse`, as an
image build would write it. dbt is the one installed beside Dagster: this interpreter's bin (a
virtualenv), or the PATH's (an image where pip installs into /usr/local/bin).
"""
import os
import shutil
import sys
from pathlib import Path

from dagster import AssetExecutionContext, Definitions, define_asset_job
from dagster_dbt import DbtCliResource, dbt_assets

PROJECT = Path(os.environ["LAKEHOUSE_E2E_DBT_PROJECT"])
BESIDE = Path(sys.executable).parent / "dbt"
DBT = BESIDE if BESIDE.exists() else Path(shutil.which("dbt") or BESIDE)


@dbt_assets(manifest=PROJECT / "target" / "manifest.json")
def lakehouse_models(context: AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(["build"], context=context).stream()


defs = Definitions(
    assets=[lakehouse_models],
    jobs=[define_asset_job("lakehouse_models_job", selection=[lakehouse_models])],
    resources={
        "dbt": DbtCliResource(
            project_dir=str(PROJECT),
            profiles_dir=os.environ["DBT_PROFILES_DIR"],
            target=os.environ.get("DBT_TARGET"),
            dbt_executable=str(DBT),
        )
    },
)
