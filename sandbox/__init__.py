"""Local stand-ins for customers' systems, speaking real HTTP on 127.0.0.1 as their documentation says.

`make run` starts them for manual work; the tests start their own on free ports. Never deployed.
"""
