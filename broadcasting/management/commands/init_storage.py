"""Prepare the S3 bucket: create it if needed and make only its ``public/`` prefix readable."""

import json

import boto3
from botocore.exceptions import ClientError
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.storage import public_read_policy


class Command(BaseCommand):
    help = "Create the S3 bucket if missing and apply the public-read policy on public/ only."

    def handle(self, *args: object, **options: object) -> None:
        bucket = settings.AWS_STORAGE_BUCKET_NAME
        if not bucket:
            self.stdout.write("Local storage (AWS_STORAGE_BUCKET_NAME is empty): nothing to do.")
            return
        client = boto3.client(
            "s3",
            endpoint_url=settings.AWS_S3_ENDPOINT_URL,
            region_name=settings.AWS_S3_REGION_NAME,
            aws_access_key_id=settings.AWS_ACCESS_KEY_ID,
            aws_secret_access_key=settings.AWS_SECRET_ACCESS_KEY,
        )
        try:
            client.head_bucket(Bucket=bucket)
        except ClientError:
            client.create_bucket(
                Bucket=bucket,
                CreateBucketConfiguration={"LocationConstraint": settings.AWS_S3_REGION_NAME},
            )
        try:
            client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public_read_policy(bucket)))
        except ClientError as err:
            raise CommandError(f"Could not set the bucket policy of {bucket}: {err}") from err
        self.stdout.write(f"Bucket {bucket} ready: public/ readable by anyone, the rest private.")
