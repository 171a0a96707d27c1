"""AWS IoT Greengrass: v1 group deployments (:mod:`~gate.providers.greengrass.v1`) and v2
deployments judged by their devices (:mod:`~gate.providers.greengrass.v2`). Importing this
package imports no boto3."""
