"""RabbitMQ: the app's message queue, one durable node in the cluster."""

from components.rabbitmq.component import RabbitMQ, RabbitMQArgs
from components.rabbitmq.spec import RabbitMQSpec

__all__ = ["RabbitMQ", "RabbitMQArgs", "RabbitMQSpec"]
