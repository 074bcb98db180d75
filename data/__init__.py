"""kgtransfer.data"""
