"""The API's businesses and their documents, per workspace: a business stored once (its profile, an id) is drafted
for by id (``business_id``), and the documents uploaded for it ground its drafts and only its drafts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, File, Form, Path, Query, Response, UploadFile
from pydantic import BaseModel, Field

from generator.api_auth import bearer
from generator.api_errors import NotConfiguredError
from generator.api_models import BUSINESS_EXAMPLES, BusinessBody, BusinessesResponse
from generator.api_v1 import COMMON_ERRORS, Businesses, Service, Workspace, errors_doc
from generator.errors import CVJError, DocumentError
from generator.workspace_documents import MAX_UPLOAD_FILES, add_document, forget_business, remove_document
from generator.workspaces import BUSINESS_ID, Business, StoredDocument

router = APIRouter(prefix="/v1", dependencies=[Depends(bearer)], responses=COMMON_ERRORS)
NOT_FOUND = errors_doc(e404="No such business in this workspace (another key's businesses are never shown)")
BusinessId = Annotated[str, Path(pattern=BUSINESS_ID.pattern, description="The business's id (b- and 12 hex digits)")]


class UploadFailure(BaseModel):
    name: str
    reason: str


class KnowledgeUpload(BaseModel):
    """What an upload did: each document indexed for the business, and each one refused with its reason."""

    business_id: str
    documents: list[StoredDocument] = Field(description="Indexed now (a file of the same name was replaced)")
    failures: list[UploadFailure] = Field(default_factory=list, description="Not indexed, each with why")


class DocumentsResponse(BaseModel):
    business_id: str
    documents: list[StoredDocument]


@router.post("/businesses", status_code=201, response_model=Business, tags=["businesses"],
             responses=errors_doc(e409="The workspace holds as many businesses as it may"))  # fmt: skip
def create_business(
    body: Annotated[BusinessBody, Body(openapi_examples=BUSINESS_EXAMPLES)],
    ws: Workspace,
    store: Businesses,
    response: Response,
) -> Business:
    """Keep a business in this key's workspace; draft for it with its `business_id` (its documents ground those
    drafts). Two businesses may share a name: each has its own id."""
    business = store.create(ws, body.profile)
    response.headers["Location"] = f"/v1/businesses/{business.id}"
    return business


@router.get("/businesses", response_model=BusinessesResponse, tags=["businesses"])
def list_businesses(ws: Workspace, store: Businesses) -> BusinessesResponse:
    """This workspace's businesses."""
    return BusinessesResponse(businesses=store.businesses(ws))


@router.get("/businesses/{business_id}", response_model=Business, responses=NOT_FOUND, tags=["businesses"])
def get_business(business_id: BusinessId, ws: Workspace, store: Businesses) -> Business:
    """One business, with its documents."""
    return store.get(ws, business_id)


@router.put("/businesses/{business_id}", response_model=Business, responses=NOT_FOUND, tags=["businesses"])
def update_business(
    business_id: BusinessId,
    body: Annotated[BusinessBody, Body(openapi_examples=BUSINESS_EXAMPLES)],
    ws: Workspace,
    store: Businesses,
) -> Business:
    """Replace the business's profile (its next draft indexes the new facts; its documents stay)."""
    return store.update(ws, business_id, body.profile)


@router.delete("/businesses/{business_id}", response_model=Business, responses=NOT_FOUND, tags=["businesses"])
def delete_business(business_id: BusinessId, ws: Workspace, store: Businesses, svc: Service) -> Business:
    """Delete the business, its documents and all its chunks in the index; returns what was deleted."""
    return forget_business(svc.index, store, ws, business_id)


@router.post(
    "/knowledge", status_code=201, response_model=KnowledgeUpload, tags=["knowledge"],
    responses=NOT_FOUND | errors_doc(e409="The business holds as many documents as it may",
                                  e503="This service has no knowledge index"),
)  # fmt: skip
def upload_knowledge(
    business_id: Annotated[str, Form(pattern=BUSINESS_ID.pattern, description="The business they are for")],
    files: Annotated[list[UploadFile], File(description=f"1 to {MAX_UPLOAD_FILES} md, txt, html, pdf or docx files")],
    ws: Workspace, store: Businesses, svc: Service,
) -> KnowledgeUpload:  # fmt: skip
    """Upload documents for a business (multipart, field `files`, repeated): each is read, chunked and indexed for
    that business only. A file that cannot be read is listed in `failures` and the others are still indexed; if
    none could be, the answer is a 422 naming each file and why."""
    if svc.index is None:
        raise NotConfiguredError("This service has no knowledge index, so documents cannot be indexed.")
    if not 1 <= len(files) <= MAX_UPLOAD_FILES:
        raise DocumentError(f"Send 1 to {MAX_UPLOAD_FILES} files at a time (got {len(files)}).")
    business = store.get(ws, business_id)
    stored, failures = [], []
    for upload in files:
        try:
            stored.append(add_document(svc.index, store, ws, business, upload.filename or "", upload.file.read()))
        except CVJError as exc:
            if exc.http_status == 409:  # the business is full: the rest would fail the same way
                raise
            failures.append(UploadFailure(name=(upload.filename or "")[:200], reason=exc.message))
    if not stored:
        details = [failure.model_dump() for failure in failures]
        raise DocumentError("No document could be read:\n" + "\n".join(f.reason for f in failures), details=details)
    return KnowledgeUpload(business_id=business_id, documents=stored, failures=failures)


@router.get("/knowledge", response_model=DocumentsResponse, responses=NOT_FOUND, tags=["knowledge"])
def list_knowledge(
    business_id: Annotated[str, Query(pattern=BUSINESS_ID.pattern)], ws: Workspace, store: Businesses
) -> DocumentsResponse:
    """The documents uploaded for a business."""
    return DocumentsResponse(business_id=business_id, documents=store.get(ws, business_id).documents)


@router.delete("/knowledge/{business_id}/{name}", response_model=DocumentsResponse, responses=NOT_FOUND,
               tags=["knowledge"])  # fmt: skip
def delete_knowledge(
    business_id: BusinessId, name: Annotated[str, Path(max_length=200)], ws: Workspace, store: Businesses,
    svc: Service,
) -> DocumentsResponse:  # fmt: skip
    """Remove one document of a business and its chunks; returns the documents left."""
    store.get(ws, business_id)
    remove_document(svc.index, store, ws, business_id, name)
    return DocumentsResponse(business_id=business_id, documents=store.get(ws, business_id).documents)
