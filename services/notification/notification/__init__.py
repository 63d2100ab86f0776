"""Notification: tells sending organisations how their learners did, by signed webhooks (Standard Webhooks v1)."""
