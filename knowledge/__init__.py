"""The knowledge base: service guides and policy documents, their index, and retrieval.

Typical use::

    from knowledge.retrieval.retriever import Retriever

    retriever = Retriever.from_published_index()
    result = retriever.run("开公司要带什么材料")
    print(result.decision, result.guide_id, result.aspect)
"""
