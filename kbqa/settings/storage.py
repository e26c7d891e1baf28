"""Where uploaded originals are kept (STORAGES["default"]), from the environment.

A folder by default: KBQA_STORAGE_DIR (one that every machine mounts, for several machines), else
KBQA_DATA_DIR/uploads. With KBQA_S3_BUCKET set, an S3-compatible store (MinIO, Ceph, AWS S3):
KBQA_S3_ENDPOINT_URL (unset: AWS), KBQA_S3_ACCESS_KEY_ID and KBQA_S3_SECRET_ACCESS_KEY (unset:
boto3's own chain, AWS_* variables or an instance role), KBQA_S3_REGION, KBQA_S3_PREFIX (a folder
in the bucket). Every reader goes through the storage (infra/storage.py makes a local copy where
a path is needed), so no machine needs a file another machine wrote on its own disk.
"""

from __future__ import annotations

from kbqa.settings.env import env_str


def upload_storage() -> dict:
    bucket = env_str("KBQA_S3_BUCKET")
    if not bucket:
        # FileSystemStorage at MEDIA_ROOT (KBQA_STORAGE_DIR); it creates folders as it writes.
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    return s3_storage(
        bucket=bucket,
        endpoint_url=env_str("KBQA_S3_ENDPOINT_URL"),
        access_key=env_str("KBQA_S3_ACCESS_KEY_ID"),
        secret_key=env_str("KBQA_S3_SECRET_ACCESS_KEY"),
        region=env_str("KBQA_S3_REGION"),
        prefix=env_str("KBQA_S3_PREFIX"),
    )


def s3_storage(
    *,
    bucket: str,
    endpoint_url: str = "",
    access_key: str = "",
    secret_key: str = "",
    region: str = "",
    prefix: str = "",
) -> dict:
    options = {
        "bucket_name": bucket,
        "endpoint_url": endpoint_url or None,
        "region_name": region or None,
        "location": prefix,
        # Self-hosted stores answer at one host name, not at one per bucket.
        "addressing_style": "path" if endpoint_url else None,
        "default_acl": None,  # the bucket's own policy (private)
    }
    if access_key:
        options |= {"access_key": access_key, "secret_key": secret_key}
    return {"BACKEND": "infra.s3.S3Storage", "OPTIONS": options}
