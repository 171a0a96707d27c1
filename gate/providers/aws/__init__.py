"""What the AWS providers share, and the CloudWatch check with them: the fields every AWS
target has (:mod:`~gate.providers.aws.fields`), the boto3 clients on the gate's wire
(:mod:`~gate.providers.aws.clients`) and one AWS call with botocore's exceptions turned into
the gate's (:mod:`~gate.providers.aws.calls`). Importing this package imports no boto3."""
