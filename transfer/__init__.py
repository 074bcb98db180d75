"""kgtransfer.transfer"""
