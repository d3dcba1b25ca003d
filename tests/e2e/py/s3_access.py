"""What one consumer's key may do in Garage, asked the way Airbyte's S3 client asks: path-style
addressing, signed for the region given. Reads a JSON request on stdin (credentials included, so
they are in no command line) and prints one JSON result per line.

request: {"endpoint", "region", "accessKeyId", "secretAccessKey", "probe": key prefix,
          "allowed": [bucket...], "denied": [bucket...], "refused": [bucket...] (a key Garage must not
          know: every request refused for its credentials), "list": {"bucket", "prefix"} (optional),
          "read": {"bucket", "keys": [key...]} (optional: each object's text, as a reader gets it)}
"""
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

req = json.load(sys.stdin)
s3 = boto3.client(
    "s3",
    endpoint_url=req["endpoint"],
    region_name=req["region"],
    aws_access_key_id=req["accessKeyId"],
    aws_secret_access_key=req["secretAccessKey"],
    config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}, connect_timeout=10, read_timeout=30),
)


def emit(**result):
    print(json.dumps(result), flush=True)


def error_of(e):
    if isinstance(e, ClientError):
        return e.response.get("Error", {}).get("Code", "ClientError") + ": " + e.response.get("Error", {}).get("Message", "")
    return type(e).__name__ + ": " + str(e)


body = b"lakehouse-platform end-to-end probe\n"
for bucket in req.get("allowed", []):
    key = req["probe"] + "/allowed"
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        s3.delete_object(Bucket=bucket, Key=key)
        try:
            s3.head_object(Bucket=bucket, Key=key)
            gone = False
        except ClientError:
            gone = True
        emit(bucket=bucket, expect="allowed", ok=got == body and gone, detail="write, read back, delete" if got == body and gone else "read back other bytes, or still there after delete")
    except Exception as e:  # noqa: BLE001 - every failure is a result
        emit(bucket=bucket, expect="allowed", ok=False, detail=error_of(e))

for bucket in req.get("denied", []):
    key = req["probe"] + "/denied"
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        emit(bucket=bucket, expect="denied", ok=False, detail="the write was accepted")
        s3.delete_object(Bucket=bucket, Key=key)
    except EndpointConnectionError as e:
        emit(bucket=bucket, expect="denied", ok=False, detail="not refused but unreachable: " + error_of(e))
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "")
        emit(bucket=bucket, expect="denied", ok=code in ("AccessDenied", "Forbidden", "403"), detail=error_of(e))
    except Exception as e:  # noqa: BLE001
        emit(bucket=bucket, expect="denied", ok=False, detail=error_of(e))

# Refusals of the key itself (unknown, deleted, or another secret), as opposed to a missing grant.
AUTH_ERRORS = ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "Forbidden", "403")
for bucket in req.get("refused", []):
    try:
        s3.get_object(Bucket=bucket, Key=req["probe"] + "/refused")
        emit(bucket=bucket, expect="refused", ok=False, detail="a request with this key was served")
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "")
        emit(bucket=bucket, expect="refused", ok=code in AUTH_ERRORS, detail=error_of(e))
    except Exception as e:  # noqa: BLE001
        emit(bucket=bucket, expect="refused", ok=False, detail=error_of(e))

if "list" in req:
    try:
        keys = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=req["list"]["bucket"], Prefix=req["list"]["prefix"]):
            keys += [o["Key"] for o in page.get("Contents", [])]
        emit(list=keys, ok=True)
    except Exception as e:  # noqa: BLE001
        emit(list=[], ok=False, detail=error_of(e))

if "read" in req:
    for key in req["read"]["keys"]:
        try:
            text = s3.get_object(Bucket=req["read"]["bucket"], Key=key)["Body"].read().decode("utf-8", "replace")
            emit(key=key, text=text, ok=True)
        except Exception as e:  # noqa: BLE001
            emit(key=key, text="", ok=False, detail=error_of(e))
