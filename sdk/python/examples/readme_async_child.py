#!/usr/bin/python3
"""readme_async_child.py: the README's asyncio child: a slow request that the parent may cancel."""

import asyncio
import sys

import cord


async def main():
    ch = await cord.aconnect()

    @ch.handler
    async def slow(msg):
        await asyncio.sleep(msg.data["seconds"])   # cancelled by the parent's Cancel
        return {"slept": msg.data["seconds"]}

    return await ch.run()


sys.exit(asyncio.run(main()))
