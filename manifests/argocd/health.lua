-- Argo CD health of an iotsecurity.io SecurityModuleConfig, TwinConfig or IoTHub, read from the status the
-- operator writes (the conditions kstatus reads: Ready, Reconciling, Stalled, and status.observedGeneration).
-- The three kinds use this one script: kustomization.yaml puts it under each kind's key of argocd-cm. Nothing
-- here depends on the kind: a TwinConfig's reasons say the same through the same conditions (DevicesRejected
-- and RolloutHalted are Stalled, so Degraded; ConfigMapNotFound, ConfigMapKeyMissing and ConfigMapUnreadable are
-- Reconciling, so Progressing), and an IoTHub has no Reconciling condition and no spec.suspend.
-- Argo CD runs it with only Lua's base and table libraries: no string or os functions here.

local hs = {}

local function condition(conditionType)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

-- "Reason: message", or what is known of it.
local function describe(c, otherwise)
  if c == nil then
    return otherwise
  end
  local reason = c.reason or c.status
  if c.message == nil or c.message == "" then
    return reason
  end
  return reason .. ": " .. c.message
end

local ready = condition("Ready")

if obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Being deleted (" .. describe(ready, "no status yet") .. ")"
  return hs
end

-- Suspension is the spec's word, whatever the last status says: the operator writes nothing for it.
if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "spec.suspend is true: the operator writes no twin for it"
  return hs
end

-- The CRDs default a status nobody wrote to observedGeneration 0 (a resource's generation starts at 1).
if obj.status == nil or obj.status.observedGeneration == nil or obj.status.observedGeneration == 0 then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator's first status"
  return hs
end

-- A status written for an older spec says nothing about this one.
if obj.status.observedGeneration ~= obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(obj.metadata.generation) ..
    " (the status is of generation " .. tostring(obj.status.observedGeneration) .. ")"
  return hs
end

local stalled = condition("Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  -- Ready's reason says why when Ready is False (the operator gives Stalled the same); when Ready is True as
  -- well, Ready's reason (Converged) would contradict Degraded: Stalled's says why.
  if ready ~= nil and ready.status ~= "True" then
    hs.message = describe(ready, "Stalled")
  else
    hs.message = describe(stalled, "Stalled")
  end
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready, "Ready")
  return hs
end

-- Ready False or Unknown without Stalled: the operator is still working on it (Reconciling=True), or
-- retrying a hub it cannot reach.
hs.status = "Progressing"
hs.message = describe(ready, "Waiting for the Ready condition")
return hs
