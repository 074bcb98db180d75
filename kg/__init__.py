"""kgtransfer.kg"""
