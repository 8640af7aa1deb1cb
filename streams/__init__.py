"""Streaming incident monitoring for Arabic and English news on Apache Kafka."""
