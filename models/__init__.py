"""kgtransfer.models"""
